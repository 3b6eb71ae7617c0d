"""Mermaid `erDiagram` text that every Mermaid since 10 parses.

Only what the oldest grammar accepts is written: an attribute's type and name are words of
`[A-Za-z_][A-Za-z0-9_()[\\]-]*` (so `numeric(10,2)` is written `numeric` with its exact
spelling in the comment, `character varying(80)` is `varchar(80)`), names that are not
such words or are Mermaid keywords are quoted, and comments lose their double quotes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dbtasks.erd import marks
from dbtasks.erd.model import Column, Table, TableKey
from dbtasks.erd.select import Picture

# Our own output's alphabet (see the module's docstring), not a parser of anyone's.
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_()\[\]-]*")
# Words Mermaid's erDiagram lexer reads as keywords or cardinalities (case-insensitive).
KEYWORDS = frozenset(
    {
        *("erdiagram", "style", "classdef", "class", "subgraph", "end", "direction"),
        *("acctitle", "accdescr", "one", "many", "only", "zero", "to", "optionally"),
        *("u", "o", "pk", "fk", "uk"),
    }
)
_SHORT = {
    "character varying": "varchar",
    "character": "char",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "double precision": "float8",
    "bit varying": "varbit",
}
COMMENT_LIMIT = 120
INDENT = "    "


# What a quoted string cannot hold: a double quote or a line break. A quoted entity name
# cannot hold "%" or "\\" either in some Mermaid: lookalikes stand in.
_ONE_LINE = {ord('"'): "'", **dict.fromkeys(range(32), " ")}
_NAME = str.maketrans({**_ONE_LINE, ord("%"): "\uff05", ord("\\"): "\uff3c"})
_TEXT = str.maketrans(_ONE_LINE)


def entity(text: str) -> str:
    """An entity name: bare when it is a plain word, else quoted."""
    if _WORD.fullmatch(text) and text.lower() not in KEYWORDS:
        return text
    return '"' + (text.translate(_NAME).strip() or "_") + '"'


def quoted(text: str) -> str:
    """A quoted label or comment: on one line, without double quotes."""
    return '"' + text.translate(_TEXT) + '"'


def spelled(type_: str) -> str:
    """A Postgres type in its short spelling: `varchar(80)`, `timestamptz(3)`, `float8[]`."""
    base = type_.rstrip("[]")
    brackets = type_[len(base) :]
    head, paren, rest = base.partition("(")
    modifier, tail = "", rest
    if paren:
        inside, _, tail = rest.partition(")")
        modifier = f"({inside})"
    short = _SHORT.get(" ".join(f"{head} {tail}".split()))
    return f"{short}{modifier}{brackets}" if short else type_


def type_word(type_: str) -> str:
    """The attribute's type word: its short spelling when that is a word, else the type's
    name alone (without modifiers or schema), with its array brackets."""
    short = spelled(type_)
    if _TYPE.fullmatch(short) and re.split(r"[^A-Za-z0-9_]", short)[0].lower() not in (
        "pk",
        "fk",
        "uk",
    ):
        return short
    base = short.rstrip("[]")
    name = base.partition("(")[0].rsplit(".", 1)[-1].strip().strip('"')
    return _word(name) + short[len(base) :]


def _word(name: str) -> str:
    """`name` as a word: other characters become `_`; one Mermaid would misread gets `_`
    in front (a leading digit, or PK, FK, UK, which it reads as keys)."""
    word = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    lead = re.split(r"[^A-Za-z0-9_]", word)[0]
    if word[0].isdigit() or lead.lower() in ("pk", "fk", "uk"):
        word = "_" + word
    return word


def attribute_word(name: str) -> str:
    return _word(name)


def comment(parts: Sequence[str]) -> str:
    text = marks.shorten("; ".join(parts), COMMENT_LIMIT)
    return f" {quoted(text)}" if text else ""


def attribute(picture: Picture, table: Table, column: Column) -> str:
    notes = []
    word, kind = attribute_word(column.name), type_word(column.type)
    if word != column.name:
        notes.append(f"column {column.name}")
    if kind != spelled(column.type):
        notes.append(column.type)
    notes += marks.column_notes(picture, table.key, column)
    keys = ", ".join(table.keys_of(column.name))
    return f"{INDENT * 2}{kind} {word}{' ' + keys if keys else ''}{comment(notes)}"


def title(picture: Picture, key: TableKey) -> str:
    found = marks.badges(picture, key)
    return picture.name(key) + (f" ({'; '.join(found)})" if found else "")


def _block(name: str, lines: list[str]) -> list[str]:
    if not lines:
        return [f"{INDENT}{name}"]
    return [f"{INDENT}{name} {{", *lines, f"{INDENT}}}"]


def table_lines(picture: Picture, key: TableKey) -> list[str]:
    table = picture.schema.tables[key]
    body = [attribute(picture, table, c) for c in table.columns]
    return _block(entity(title(picture, key)), body)


def stub_lines(picture: Picture, key: TableKey, columns: Sequence[str], note: str) -> list[str]:
    table = picture.schema.tables.get(key) or Table(key[0], key[1])
    body = []
    for i, name in enumerate(columns):
        found = table.column(name)
        kind = type_word(found.type) if found else "unknown"
        keys = ", ".join(table.keys_of(name))
        said = comment([note] if i == 0 else [])
        body.append(f"{INDENT * 2}{kind} {attribute_word(name)}{' ' + keys if keys else ''}{said}")
    return _block(entity(stub_or_title(picture, key)), body)


def relationship_lines(picture: Picture, key: TableKey) -> list[str]:
    table = picture.schema.tables[key]
    lines = []
    for fk in table.foreign_keys:
        unique = set(fk.columns) == set(table.primary_key) or tuple(fk.columns) in table.uniques
        optional = any(c.nullable for c in table.columns if c.name in fk.columns)
        line = "--" if set(fk.columns) <= set(table.primary_key) else ".."
        left, right = ("|o" if unique else "}o"), ("o|" if optional else "||")
        parent = stub_or_title(picture, fk.target)
        label = quoted(marks.fk_label(picture, table, fk.name))
        lines.append(
            f"{INDENT}{entity(title(picture, key))} {left}{line}{right} {entity(parent)} : {label}"
        )
    return lines


def stub_or_title(picture: Picture, key: TableKey) -> str:
    return title(picture, key) if key in picture.drawn else picture.name(key)


def diagram(picture: Picture, keys: Sequence[TableKey], where: dict[TableKey, int]) -> str:
    """One `erDiagram` of the tables `keys`, with stubs for what they reference elsewhere;
    `where` says which chunk draws each table."""
    lines = ["erDiagram"]
    for key in keys:
        lines += table_lines(picture, key)
    for key, columns in picture.stubs(keys).items():
        lines += stub_lines(picture, key, columns, marks.stub_note(key, where))
    for key in keys:
        lines += relationship_lines(picture, key)
    return "\n".join(lines) + "\n"


def weight(picture: Picture, key: TableKey) -> int:
    """One table's share of a diagram's text."""
    lines = table_lines(picture, key) + relationship_lines(picture, key)
    return sum(len(line) + 1 for line in lines)
