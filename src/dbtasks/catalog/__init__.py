"""A database schema as plain, comparable data, read from the catalogs with psycopg2.

`describe` reads a few schemas in one query per kind of object (tables and columns,
constraints, indexes, enum types, sequences, views), so describing a schema of hundreds of
tables costs the same handful of round trips as describing one. Two descriptions compare
with `==`; `diff` says how they differ, one line each. Used to check that two ways of
migrating give the same schema, and that a downgrade restores the schema it undid.

Alembic's version table (whatever it is called) and dbtasks' timing history are not part of
the schema: they are skipped, with everything that belongs to them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from dbtasks.migrations.journal import TABLE as JOURNAL_TABLE
from dbtasks.migrations.version_table import VERSION_TABLE

SKIPPED = (VERSION_TABLE, JOURNAL_TABLE)
# Alembic's version table has this one column, whatever DB_VERSION_TABLE calls it.
_VERSION_COLUMNS = ("version_num",)
_CONSTRAINT_KINDS = {
    "c": "check",
    "f": "foreign key",
    "n": "not null",
    "p": "primary key",
    "t": "trigger",
    "u": "unique",
    "x": "exclusion",
}

TableKey = tuple[str, str]  # (schema, table)
MemberKey = tuple[str, str, str]  # (schema, table, name)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type: "character varying(200)", "app.mood", "integer[]"
    nullable: bool
    default: str | None  # the expression, as Postgres prints it
    identity: str | None  # "always", "by default" or None
    generated: str | None  # the expression of a stored generated column
    collation: str | None  # only when not the type's default


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]  # by name
    # Where each column sits. Not compared: a downgrade that re-adds a dropped column can
    # only append it, so no history restores the order (`diff(column_order=True)` asks).
    order: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Constraint:
    kind: str  # "primary key", "foreign key", "unique", "check", "exclusion", ...
    definition: str  # pg_get_constraintdef


@dataclass(frozen=True)
class Index:
    definition: str  # pg_get_indexdef without the table's schema


@dataclass(frozen=True)
class EnumType:
    labels: tuple[str, ...]  # in sort order


@dataclass(frozen=True)
class SequenceDef:
    type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cycle: bool
    owned_by: str | None  # "table.column" for serial and identity sequences


@dataclass(frozen=True)
class View:
    materialized: bool
    definition: str


@dataclass(frozen=True)
class Description:
    """Everything `describe` read; keys are (schema, name) or (schema, table, name)."""

    schemas: tuple[str, ...]
    tables: Mapping[TableKey, Table]
    constraints: Mapping[MemberKey, Constraint]
    indexes: Mapping[MemberKey, Index]
    enums: Mapping[TableKey, EnumType]
    sequences: Mapping[TableKey, SequenceDef]
    views: Mapping[TableKey, View]


def describe(cur: Any, schemas: Iterable[str], skip: Collection[str] = SKIPPED) -> Description:
    """Read `schemas` through `cur` (a psycopg2 cursor), skipping the tables named in
    `skip` and any Alembic version table."""
    wanted = list(schemas)
    with qualified_names(cur):
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1", [wanted])
        found = tuple(str(r[0]) for r in cur.fetchall())
        tables = _tables(query_rows(cur, _COLUMNS_SQL, wanted))
        skipped = {k for k, t in tables.items() if _is_skipped(k, t, skip)}
        return Description(
            schemas=found,
            tables={k: t for k, t in tables.items() if k not in skipped},
            constraints=members(query_rows(cur, _CONSTRAINTS_SQL, wanted), skipped, _constraint),
            indexes=members(query_rows(cur, _INDEXES_SQL, wanted), skipped, _index),
            enums={
                (r[0], r[1]): EnumType(tuple(r[2])) for r in query_rows(cur, _ENUMS_SQL, wanted)
            },
            sequences=_sequences(query_rows(cur, _SEQUENCES_SQL, wanted), skipped),
            views={(r[0], r[1]): View(r[2], r[3]) for r in query_rows(cur, _VIEWS_SQL, wanted)},
        )


@contextmanager
def qualified_names(cur: Any) -> Iterator[None]:
    """With only pg_catalog on the search path, Postgres qualifies every other name it
    prints (defaults, foreign keys, casts to enum types): output that does not depend on
    the session."""
    cur.execute("SELECT current_setting('search_path')")
    before = cur.fetchone()[0]
    cur.execute("SELECT set_config('search_path', 'pg_catalog', false)")
    try:
        yield
    finally:
        cur.execute("SELECT set_config('search_path', %s, false)", (before,))


def query_rows(cur: Any, query: str, schemas: list[str]) -> list[tuple[Any, ...]]:
    cur.execute(query, {"schemas": schemas})
    return list(cur.fetchall())


_COLUMNS_SQL = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s)
ORDER BY 1, 2, a.attnum
"""

_CONSTRAINTS_SQL = """
SELECT n.nspname, c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid, true)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s)
"""

_INDEXES_SQL = """
SELECT n.nspname, t.relname, i.relname, pg_get_indexdef(i.oid), quote_ident(n.nspname)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
"""

_ENUMS_SQL = """
SELECT n.nspname, t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ANY(%(schemas)s) GROUP BY 1, 2
"""

_SEQUENCES_SQL = """
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcycle, owner.relname, a.attname
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class owner ON owner.oid = d.refobjid
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE n.nspname = ANY(%(schemas)s)
"""

_VIEWS_SQL = """
SELECT n.nspname, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid, true)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY(%(schemas)s)
"""


def _tables(rows: list[tuple[Any, ...]]) -> dict[TableKey, Table]:
    columns: dict[TableKey, list[Column]] = {}
    for schema, table, name, *rest in rows:
        found = columns.setdefault((schema, table), [])
        if name is not None:  # a table without columns still exists
            type_, not_null, default, identity, generated, collation = rest
            found.append(Column(name, type_, not not_null, default, identity, generated, collation))
    return {
        key: Table(tuple(sorted(cols, key=lambda c: c.name)), tuple(c.name for c in cols))
        for key, cols in columns.items()
    }


def _is_skipped(key: TableKey, table: Table, skip: Collection[str]) -> bool:
    return key[1] in skip or tuple(c.name for c in table.columns) == _VERSION_COLUMNS


T = TypeVar("T")


def members(
    rows: list[tuple[Any, ...]], skipped: set[TableKey], make: Callable[[tuple[Any, ...]], T]
) -> dict[MemberKey, T]:
    return {(r[0], r[1], r[2]): make(r) for r in rows if (r[0], r[1]) not in skipped}


def _constraint(row: tuple[Any, ...]) -> Constraint:
    return Constraint(_CONSTRAINT_KINDS.get(row[3], row[3]), row[4])


def _index(row: tuple[Any, ...]) -> Index:
    # pg_get_indexdef always names the table with its schema; the key already holds it,
    # and without it two schemas of different names can be compared.
    definition, schema = row[3], row[4]
    for on in (" ON ", " ON ONLY "):
        definition = definition.replace(f"{on}{schema}.", on, 1)
    return Index(definition)


def _sequences(rows: list[tuple[Any, ...]], skipped: set[TableKey]) -> dict[TableKey, SequenceDef]:
    found = {}
    for schema, name, type_, start, step, low, high, cycle, owner, column in rows:
        if (schema, owner) in skipped:
            continue
        owned = f"{owner}.{column}" if owner else None
        found[(schema, name)] = SequenceDef(type_, start, step, low, high, cycle, owned)
    return found


def diff(a: Description, b: Description, column_order: bool = False) -> list[str]:
    """How `b` differs from `a`, one readable line each ("missing": in `a` only); the
    order of columns only when asked."""
    lines = [f"schema {s} missing" for s in a.schemas if s not in b.schemas]
    lines += [f"schema {s} extra" for s in b.schemas if s not in a.schemas]
    for kind, ours, theirs in (
        ("table", a.tables, b.tables),
        ("constraint", a.constraints, b.constraints),
        ("index", a.indexes, b.indexes),
        ("enum", a.enums, b.enums),
        ("sequence", a.sequences, b.sequences),
        ("view", a.views, b.views),
    ):
        lines += _keyed(kind, ours, theirs)
    if column_order:
        lines += _column_order(a, b)
    return lines


def _keyed(kind: str, a: Mapping[Any, Any], b: Mapping[Any, Any], within: str = "") -> list[str]:
    lines = []
    for key in sorted(a.keys() | b.keys()):
        name = within + ".".join(key)
        if key not in b:
            lines.append(f"{kind} {name} missing")
        elif key not in a:
            lines.append(f"{kind} {name} extra")
        elif isinstance(a[key], Table):
            lines += _table(name, a[key], b[key])
        else:
            lines += _fields(f"{kind} {name}", a[key], b[key])
    return lines


def _table(name: str, a: Table, b: Table) -> list[str]:
    ours = {(c.name,): c for c in a.columns}
    theirs = {(c.name,): c for c in b.columns}
    return _keyed("column", ours, theirs, within=f"{name}.")


def _column_order(a: Description, b: Description) -> list[str]:
    """Tables holding the same columns in another order."""
    lines = []
    for key in sorted(a.tables.keys() & b.tables.keys()):
        mine, other = a.tables[key].order, b.tables[key].order
        if mine != other and sorted(mine) == sorted(other):
            lines.append(f"table {'.'.join(key)}: column order {_show(mine)} ≠ {_show(other)}")
    return lines


def _fields(what: str, a: Any, b: Any) -> list[str]:
    lines = []
    for each in fields(a):
        mine, other = getattr(a, each.name), getattr(b, each.name)
        if each.name != "name" and mine != other:
            lines.append(f"{what}: {each.name} {_show(mine)} ≠ {_show(other)}")
    return lines


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)
