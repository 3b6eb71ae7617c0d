"""A revision's SQL as statements: what each one acts on, and which are the runner's own.

squawk judges statements one by one; whether a finding matters depends on what the
statement acts on. Locking a table the same revision created is harmless (nobody reads
it yet), locking one that exists is an outage. Postgres' parser names each statement's
tables (`sqlkinds`); this module walks the revision in order to know which of them it
created. It also recognises the statements the migration runner adds around the
revision (schema, search_path, transaction, version table), which are not the revision's,
and keeps the statements the parser rejects apart: squawk never sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dbtasks.sqltext import split_lenient
from dbtasks.validate.sqlkinds import Action, Name, action

__all__ = ["Action", "Name", "Script", "Statement", "action", "scan"]


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
    error: str | None = None  # why Postgres' parser rejects it: nothing is known of it


@dataclass(frozen=True)
class Script:
    """One revision's SQL, split and walked."""

    text: str
    statements: tuple[Statement, ...]
    line_starts: tuple[int, ...]

    def for_squawk(self) -> str:
        """The SQL without the runner's statements, line for line. BEGIN and COMMIT stay:
        squawk needs them to tell a transaction from an autocommit block. Statements the
        parser rejects go too: squawk stops checking at the first it cannot parse."""
        text = self.text
        for s in self.statements:
            if (s.runner and not s.transaction) or s.error is not None:
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
    for part in split_lenient(text):
        start = text.find(part.sql, max(cursor, starts[part.line - 1]))
        cursor = start + len(part.sql)
        last = part.line + part.sql.count("\n")
        where = (part.sql, start, cursor, part.line, last)
        if part.error is not None:
            statements.append(Statement(*where, error=part.error))
        else:
            statements.append(Statement(*where, *walk.step(action(part.sql))))
    return Script(text, tuple(statements), starts)


@dataclass
class _Walk:
    version: Name
    schema: str | None = None  # where unqualified names resolve: the search_path's first
    tables: set[Name] = field(default_factory=set)  # created by the revision so far
    indexes: set[Name] = field(default_factory=set)  # created on those tables

    def step(self, act: Action) -> tuple[bool, bool, bool]:
        """(runner, on_new, transaction) for the next statement."""
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
