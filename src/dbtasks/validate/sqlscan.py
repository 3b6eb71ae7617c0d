"""A revision's SQL as statements: what each one acts on, and which are the runner's own.

squawk judges statements one by one; whether a finding matters depends on what the
statement acts on. Locking a table the same revision created is harmless (nobody reads
it yet), locking one that exists is an outage. This module reads just enough of each
statement's head to name its tables, and walks the revision in order to know which of
them it created. It also recognises the statements the migration runner adds around the
revision (schema, search_path, transaction, version table), which are not the revision's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from dbtasks.seeds import split_sql

# Parts of SQL a statement's head is made of; strings and dollar quotes only to skip them.
_TOKEN = re.compile(
    r"""
      (?P<skip>\s+|--[^\n]*|/\*.*?\*/|\$(?P<tag>\w*)\$.*?\$(?P=tag)\$)
    | '(?P<string>(?:[^']|'')*)'
    | "(?P<quoted>(?:[^"]|"")*)"
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<other>\S)
    """,
    re.DOTALL | re.VERBOSE,
)


@dataclass(frozen=True)
class Name:
    """A schema-qualified name as Postgres folds it: unquoted parts lower-cased."""

    name: str
    schema: str | None = None

    def within(self, schema: str | None) -> Name:
        """Where an unqualified name lands: the first schema of the search_path."""
        return self if self.schema or schema is None else Name(self.name, schema)


class Token(NamedTuple):  # a tuple: statements are many, and tokens many more
    text: str  # words folded to lower case; quoted identifiers and strings as written
    kind: str = "word"  # word, quoted (an identifier), string (a literal) or other

    def is_word(self, *words: str) -> bool:
        return self.kind in ("word", "other") and self.text in words


def tokens(sql: str) -> Iterator[Token]:
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "skip"  # an outer group closes last: dollar quotes skip
        text = match[kind]
        if kind == "word":
            text = text.lower()
        elif kind in ("quoted", "string"):
            quote = '"' if kind == "quoted" else "'"
            text = text.replace(quote * 2, quote)
        if kind != "skip":
            yield Token(text, kind)


class Cursor:
    """Reads a statement's tokens left to right, only as far as it needs (a revision may
    insert megabytes of rows); every read tolerates running out."""

    def __init__(self, sql: str) -> None:
        self.stream = tokens(sql)
        self.items: list[Token] = []
        self.at = 0

    def peek(self, ahead: int = 0) -> Token | None:
        i = self.at + ahead
        while len(self.items) <= i and (token := next(self.stream, None)) is not None:
            self.items.append(token)
        return self.items[i] if i < len(self.items) else None

    def accept(self, *words: str) -> bool:
        """Consume `words` if the statement goes on with exactly them."""
        for i, word in enumerate(words):
            token = self.peek(i)
            if token is None or not token.is_word(word):
                return False
        self.at += len(words)
        return True

    def skip(self, *words: str) -> None:
        """Consume any of `words`, in any number (optional modifiers)."""
        while (token := self.peek()) is not None and token.is_word(*words):
            self.at += 1

    def name(self) -> Name | None:
        parts: list[str] = []
        while (token := self.peek()) is not None and token.kind in ("word", "quoted"):
            parts.append(token.text)
            self.at += 1
            if not ((dot := self.peek()) is not None and dot.is_word(".")):
                break
            self.at += 1
        if not parts:
            return None
        return Name(parts[-1], parts[-2] if len(parts) > 1 else None)

    def names(self) -> list[Name]:
        """A comma-separated list of names (DROP TABLE a, b; TRUNCATE a, b)."""
        found = []
        while (name := self.name()) is not None:
            found.append(name)
            self.accept("*")  # TRUNCATE t * includes descendants: still t
            token = self.peek()
            if token is None or token.text != ",":
                break
            self.at += 1
        return found


class Action(NamedTuple):
    """What one statement does, as far as lint needs to know."""

    verb: str = ""  # its leading keywords: "alter table", "create index", "begin", ...
    tables: tuple[Name, ...] = ()  # the tables it acts on (creates, alters, drops, writes)
    indexes: tuple[Name, ...] = ()  # the indexes it acts on (DROP INDEX, REINDEX INDEX)
    new_index: Name | None = None  # the index it creates
    renamed: Name | None = None  # the table's new name (ALTER TABLE t RENAME TO n)
    robust: bool = False  # IF NOT EXISTS: what it creates may have been there already
    search_path: tuple[str, ...] = ()


def action(sql: str) -> Action:
    cur = Cursor(sql)
    if (first := cur.peek()) is not None and first.is_word("create"):
        # CREATE [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] TABLE, CREATE [UNIQUE] INDEX
        while (t := cur.peek(1)) is not None and t.is_word(*_MODIFIERS):
            del cur.items[1]
    head = tuple(
        t.text if t.kind == "word" else "" for t in filter(None, (cur.peek(), cur.peek(1)))
    )
    for words in (head, head[:1]):
        read = _VERBS.get(words)
        if read is not None:
            cur.at = len(words)
            found = read(cur)
            return found if found.verb else found._replace(verb=" ".join(words))
    return Action()


def _named(cur: Cursor) -> Action:
    """CREATE TABLE/SCHEMA, INSERT INTO, UPDATE, DELETE FROM: one name comes next."""
    cur.skip("only")
    robust = cur.accept("if", "not", "exists")
    name = cur.name()
    return Action(tables=(name,) if name else (), robust=robust)


def _create_index(cur: Cursor) -> Action:
    cur.skip("concurrently")
    robust = cur.accept("if", "not", "exists")
    index = None if (t := cur.peek()) is not None and t.is_word("on") else cur.name()
    if not cur.accept("on"):
        return Action()
    cur.skip("only")
    table = cur.name()
    return Action(tables=(table,) if table else (), new_index=index, robust=robust)


def _alter_table(cur: Cursor) -> Action:
    cur.accept("if", "exists")
    cur.skip("only")
    table = cur.name()
    if table is None:
        return Action()
    cur.accept("*")
    renamed = cur.name() if cur.accept("rename", "to") else None
    return Action(tables=(table,), renamed=renamed)


def _listed(cur: Cursor) -> Action:
    """DROP TABLE [IF EXISTS] a, b and TRUNCATE [TABLE] [ONLY] a, b."""
    cur.skip("table", "only", "concurrently")
    cur.accept("if", "exists")
    return Action(tables=tuple(cur.names()))


def _drop_index(cur: Cursor) -> Action:
    return Action(indexes=_listed(cur).tables)


def _reindex(cur: Cursor) -> Action:
    if (t := cur.peek()) is not None and t.is_word("("):  # options: REINDEX (VERBOSE) ...
        while (t := cur.peek()) is not None and not t.is_word(")"):
            cur.at += 1
        cur.at += 1
    kind = "index" if cur.accept("index") else "table" if cur.accept("table") else ""
    cur.skip("concurrently")
    name = cur.name() if kind else None
    if name is None:
        return Action()
    return Action(indexes=(name,)) if kind == "index" else Action(tables=(name,))


def _set(cur: Cursor) -> Action:
    cur.skip("local", "session")
    if not cur.accept("search_path"):
        return Action()
    if not cur.accept("to"):
        cur.accept("=")
    schemas = []
    while (t := cur.peek()) is not None and t.kind in ("word", "quoted", "string"):
        schemas.append(t.text)
        cur.at += 1
        if not cur.accept(","):
            break
    return Action(verb="set search_path", search_path=tuple(schemas))


_MODIFIERS = ("global", "local", "temp", "temporary", "unlogged", "unique")
# A statement's first one or two words, and what reads the rest.
_VERBS: dict[tuple[str, ...], Callable[[Cursor], Action]] = {
    ("create", "table"): _named,
    ("create", "index"): _create_index,
    ("create", "schema"): _named,
    ("alter", "table"): _alter_table,
    ("drop", "table"): _listed,
    ("drop", "index"): _drop_index,
    ("truncate",): _listed,
    ("reindex",): _reindex,
    ("set",): _set,
    ("insert", "into"): _named,
    ("update",): _named,
    ("delete", "from"): _named,
    ("begin",): lambda cur: Action(),
    ("commit",): lambda cur: Action(),
}


@dataclass(frozen=True)
class Statement:
    sql: str
    start: int  # offsets of its text in the revision's SQL
    end: int
    first_line: int  # 1-based lines
    last_line: int
    runner: bool = False  # the migration runner's, not the revision's
    on_new: bool = False  # acts only on tables or indexes the revision created before it
    transaction: bool = False  # BEGIN or COMMIT


@dataclass(frozen=True)
class Script:
    """One revision's SQL, split and walked."""

    text: str
    statements: tuple[Statement, ...]
    line_starts: tuple[int, ...]

    def for_squawk(self) -> str:
        """The SQL without the runner's statements, line for line. BEGIN and COMMIT stay:
        squawk needs them to tell a transaction from an autocommit block."""
        text = self.text
        for s in self.statements:
            if s.runner and not s.transaction:
                text = text[: s.start] + re.sub(r"[^\n]", " ", s.sql) + text[s.end :]
        return text

    def at(self, line: int, column: int = 0) -> Statement | None:
        """The statement at a 1-based line and 0-based column (where squawk points)."""
        on_line = [s for s in self.statements if s.first_line <= line <= s.last_line]
        offset = self.line_starts[min(line, len(self.line_starts)) - 1] + column
        inside = [s for s in on_line if s.start <= offset <= s.end]
        return next(iter(inside or on_line), None)


def scan(text: str, version: Name) -> Script:
    """Split `text` and note, for each statement, whether the runner wrote it and whether
    it acts only on what the revision itself created. `version` is the version table."""
    starts = (0, *(m.end() for m in re.finditer("\n", text)))
    walk = _Walk(version)
    statements, cursor = [], 0
    for part in split_sql(text):
        start = text.find(part.sql, max(cursor, starts[part.line - 1]))
        cursor = start + len(part.sql)
        last = part.line + part.sql.count("\n")
        statements.append(Statement(part.sql, start, cursor, part.line, last, *walk.step(part.sql)))
    return Script(text, tuple(statements), starts)


@dataclass
class _Walk:
    version: Name
    schema: str | None = None  # where unqualified names resolve: the search_path's first
    tables: set[Name] = field(default_factory=set)  # created by the revision so far
    indexes: set[Name] = field(default_factory=set)  # created on those tables

    def step(self, sql: str) -> tuple[bool, bool, bool]:
        """(runner, on_new, transaction) for the next statement."""
        act = action(sql)
        if act.verb in ("begin", "commit"):
            return True, False, True
        if act.verb == "set search_path":
            self.schema = act.search_path[0] if act.search_path else None
            return True, False, False
        if (act.verb == "create schema" and act.robust) or self._is_version(act):
            return True, False, False
        return False, self._learn(act), False

    def _learn(self, act: Action) -> bool:
        tables = [t.within(self.schema) for t in act.tables]
        if act.verb == "create table" and not act.robust:
            self.tables.update(tables)
        on_new = bool(tables or act.indexes) and all(t in self.tables for t in tables)
        on_new = on_new and all(i.within(self.schema) in self.indexes for i in act.indexes)
        if on_new and act.new_index is not None and not act.robust:
            self.indexes.add(act.new_index.within(tables[0].schema))  # its table's schema
        if on_new and act.renamed is not None:
            self.tables.add(act.renamed.within(tables[0].schema))
        return on_new

    def _is_version(self, act: Action) -> bool:
        if (
            act.verb not in ("create table", "insert into", "update", "delete from")
            or not act.tables
        ):
            return False
        name = act.tables[0].within(self.schema)
        schemas = {name.schema, self.version.schema} - {None}
        return name.name == self.version.name and len(schemas) <= 1
