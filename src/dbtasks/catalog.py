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
    with _qualified_names(cur):
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1", [wanted])
        found = tuple(str(r[0]) for r in cur.fetchall())
        tables = _tables(_rows(cur, _COLUMNS_SQL, wanted))
        skipped = {k for k, t in tables.items() if _is_skipped(k, t, skip)}
        return Description(
            schemas=found,
            tables={k: t for k, t in tables.items() if k not in skipped},
            constraints=_members(_rows(cur, _CONSTRAINTS_SQL, wanted), skipped, _constraint),
            indexes=_members(_rows(cur, _INDEXES_SQL, wanted), skipped, _index),
            enums={(r[0], r[1]): EnumType(tuple(r[2])) for r in _rows(cur, _ENUMS_SQL, wanted)},
            sequences=_sequences(_rows(cur, _SEQUENCES_SQL, wanted), skipped),
            views={(r[0], r[1]): View(r[2], r[3]) for r in _rows(cur, _VIEWS_SQL, wanted)},
        )


@contextmanager
def _qualified_names(cur: Any) -> Iterator[None]:
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


def _rows(cur: Any, query: str, schemas: list[str]) -> list[tuple[Any, ...]]:
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


def _members(
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


# --- The fingerprint: everything a squash must reproduce ---------------------------------
#
# `describe` reads the shape of some schemas; a squashed baseline must also reproduce what
# runs in them and who may use it: functions, triggers, row-level security, grants, the
# extensions, where each sequence stands and the rows of every table. `fingerprint` reads
# all of that for every schema of the database that is not Postgres' own, so that two
# databases built two ways (replaying a history, loading one baseline) compare with `==`.

_NOT_SYSTEM = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"


@dataclass(frozen=True)
class Fingerprint:
    """A whole database, as plain data; keys as in `Description`, values printable."""

    shape: Description
    functions: Mapping[TableKey, str]  # (schema, "name(args)") -> pg_get_functiondef
    triggers: Mapping[MemberKey, str]  # (schema, table, trigger) -> definition, enabled
    policies: Mapping[MemberKey, str]  # (schema, table, policy) -> what it allows
    security: Mapping[TableKey, str]  # tables with row-level security: "enabled[, forced]"
    grants: Mapping[TableKey, str]  # (kind schema.name, grantee) -> privileges
    default_grants: Mapping[TableKey, str]  # (role, schema or "") -> ALTER DEFAULT PRIVILEGES
    extensions: Mapping[str, str]  # name -> "version in schema"
    sequence_states: Mapping[TableKey, str]  # (schema, sequence) -> last value
    rows: Mapping[TableKey, str]  # (schema, table) -> "count rows, md5"

    def user_schemas(self) -> tuple[str, ...]:
        return self.shape.schemas


def fingerprint(
    cur: Any, schemas: Iterable[str] | None = None, skip: Collection[str] = SKIPPED
) -> Fingerprint:
    """Read every schema that is not Postgres' own (or only `schemas`) through `cur`."""
    with _qualified_names(cur):
        if schemas is None:
            cur.execute(f"SELECT n.nspname FROM pg_namespace n WHERE {_NOT_SYSTEM}")
            schemas = [str(r[0]) for r in cur.fetchall()]
        wanted = list(schemas)
        shape = describe(cur, wanted, skip)
        skipped = _skipped_tables(cur, wanted, shape)
        return Fingerprint(
            shape=shape,
            functions={(r[0], r[1]): r[2] for r in _rows(cur, _FUNCTIONS_SQL, wanted)},
            triggers=_members(_rows(cur, _TRIGGERS_SQL, wanted), skipped, lambda r: r[3]),
            policies=_members(_rows(cur, _POLICIES_SQL, wanted), skipped, _policy),
            security={(r[0], r[1]): r[2] for r in _rows(cur, _SECURITY_SQL, wanted)},
            grants=_grants(_rows(cur, _GRANTS_SQL, wanted), skipped),
            default_grants={(r[0], r[1]): r[2] for r in _rows(cur, _DEFAULT_ACL_SQL, wanted)},
            extensions={r[0]: f"{r[1]} in {r[2]}" for r in _rows(cur, _EXTENSIONS_SQL, wanted)},
            sequence_states=_sequence_states(cur, wanted, shape),
            rows=_table_rows(cur, shape),
        )


def _skipped_tables(cur: Any, schemas: list[str], shape: Description) -> set[TableKey]:
    """The tables `describe` left out (version table, timing history), by key."""
    every = {(r[0], r[1]) for r in _rows(cur, _ALL_TABLES_SQL, schemas)}
    return every - set(shape.tables)


_ALL_TABLES_SQL = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s)
"""

# Members of an extension come with it: its version stands for them.
_NOT_EXTENSION_MEMBER = """NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {catalog}
    AND d.objid = {oid} AND d.deptype = 'e')"""

_FUNCTIONS_SQL = f"""
SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       CASE WHEN p.prokind = 'a' THEN 'aggregate ' || p.oid::regprocedure::text
            ELSE pg_get_functiondef(p.oid) END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(%(schemas)s)
  AND {_NOT_EXTENSION_MEMBER.format(catalog="'pg_proc'::regclass", oid="p.oid")}
"""

_TRIGGERS_SQL = """
SELECT n.nspname, c.relname, t.tgname,
       pg_get_triggerdef(t.oid, true) || ' [' || t.tgenabled::text || ']'
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname = ANY(%(schemas)s)
"""

_POLICIES_SQL = """
SELECT schemaname, tablename, policyname, permissive, roles::text[], cmd, qual, with_check
FROM pg_policies WHERE schemaname = ANY(%(schemas)s)
"""

_SECURITY_SQL = """
SELECT n.nspname, c.relname,
       'enabled' || CASE WHEN c.relforcerowsecurity THEN ', forced' ELSE '' END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relrowsecurity AND n.nspname = ANY(%(schemas)s)
"""

# Every ACL with NULL read as the default it stands for, so that an explicit grant of
# exactly the default equals none; grantors are left out (who ran the GRANT differs).
# Extensions' members are in: a history may grant on them (EXECUTE on an extension's
# function), and nothing else would carry that.
_GRANTS_SQL = """
WITH objects(kind, schema, name, table_name, acl, owner, defaults, target, column_name) AS (
    SELECT 'schema', n.nspname::text, n.nspname::text, NULL::text, n.nspacl, n.nspowner,
           'n'::"char",
           'SCHEMA ' || quote_ident(n.nspname), NULL::text
    FROM pg_namespace n WHERE n.nspname = ANY(%(schemas)s)
  UNION ALL
    SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, n.nspname, c.relname,
           c.relname, c.relacl, c.relowner,
           CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char",
           CASE WHEN c.relkind = 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END
               || quote_ident(n.nspname) || '.' || quote_ident(c.relname), NULL
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname = ANY(%(schemas)s)
  UNION ALL
    SELECT 'column', n.nspname, c.relname || '.' || a.attname, c.relname, a.attacl,
           c.relowner, 'c'::"char",
           'TABLE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname = ANY(%(schemas)s)
  UNION ALL
    SELECT 'function', n.nspname, p.oid::regprocedure::text, NULL, p.proacl, p.proowner,
           'f'::"char", 'ROUTINE ' || p.oid::regprocedure::text, NULL
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ANY(%(schemas)s)
  UNION ALL
    SELECT 'type', n.nspname, t.typname, NULL, t.typacl, t.typowner, 'T'::"char",
           'TYPE ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname), NULL
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typacl IS NOT NULL AND n.nspname = ANY(%(schemas)s)
)
SELECT o.kind, o.schema, o.name, o.table_name,
       CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END,
       string_agg(x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END, ','
                  ORDER BY x.privilege_type),
       o.target, o.column_name
FROM objects o, aclexplode(coalesce(o.acl, acldefault(o.defaults, o.owner))) x
WHERE x.grantee <> o.owner
GROUP BY 1, 2, 3, 4, 5, 7, 8
"""

_DEFAULT_ACL_SQL = """
SELECT pg_get_userbyid(d.defaclrole)::text, coalesce(n.nspname, ''),
       d.defaclobjtype::text || ' ' || array_to_string(ARRAY(
           SELECT unnest(d.defaclacl)::text ORDER BY 1), ' ')
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
WHERE n.nspname IS NULL OR n.nspname = ANY(%(schemas)s)
"""

# Extensions belong to the database, whichever schema holds their objects.
_EXTENSIONS_SQL = """
SELECT e.extname, e.extversion, n.nspname
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
"""


def _policy(row: tuple[Any, ...]) -> str:
    permissive, roles, command, using, check = row[3:]
    return (
        f"{permissive.lower()} for {command.lower()} to {', '.join(sorted(roles))} "
        f"using ({using}) with check ({check})"
    )


@dataclass(frozen=True)
class Grants:
    """Who holds which privileges on one object: what GRANT and REVOKE need to say."""

    key: TableKey  # as in Fingerprint.grants
    target: str  # "TABLE app.t", "ROUTINE app.f()", "SCHEMA app", ...
    column: str | None  # for privileges on one column of `target`
    privileges: frozenset[str]  # "SELECT", "UPDATE*" (* = with grant option)


def _grant_key(kind: str, schema: str, name: str, grantee: str) -> TableKey:
    shown = schema if kind == "schema" else name if kind == "function" else f"{schema}.{name}"
    return (f"{kind} {shown}", grantee)


def grant_rows(cur: Any, schemas: Iterable[str]) -> list[Grants]:
    """Every object's grants in `schemas`, but for the owner's own."""
    with _qualified_names(cur):
        rows = _rows(cur, _GRANTS_SQL, list(schemas))
    return [
        Grants(_grant_key(r[0], r[1], r[2], r[4]), r[6], r[7], frozenset(r[5].split(",")))
        for r in rows
    ]


def _grants(rows: list[tuple[Any, ...]], skipped: set[TableKey]) -> dict[TableKey, str]:
    return {
        _grant_key(kind, schema, name, grantee): privileges
        for kind, schema, name, table, grantee, privileges, *_ in rows
        if (schema, table) not in skipped
    }


def _sequence_states(cur: Any, schemas: list[str], shape: Description) -> dict[TableKey, str]:
    """Where each sequence `describe` kept stands (those of skipped tables are left out)."""
    cur.execute(
        "SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE schemaname = ANY(%s)",
        [schemas],
    )
    return {
        (r[0], r[1]): "never used" if r[2] is None else f"at {r[2]}"
        for r in cur.fetchall()
        if (r[0], r[1]) in shape.sequences
    }


def _table_rows(cur: Any, shape: Description) -> dict[TableKey, str]:
    """How many rows each table holds and a digest of them, in an order of their own."""
    from psycopg2 import sql

    found = {}
    for schema, table in sorted(shape.tables):
        name = sql.Identifier(schema, table)
        cur.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), ''))"
                " FROM ONLY {} r"
            ).format(name)
        )
        count, digest = cur.fetchone()
        found[(schema, table)] = f"{count} rows, md5 {digest}"
    return found


def fingerprint_diff(a: Fingerprint, b: Fingerprint) -> list[str]:
    """How `b` differs from `a`, one readable line each ("missing": in `a` only)."""
    lines = diff(a.shape, b.shape)
    for kind, ours, theirs in (
        ("function", a.functions, b.functions),
        ("trigger", a.triggers, b.triggers),
        ("policy", a.policies, b.policies),
        ("row-level security of", a.security, b.security),
        ("grant", a.grants, b.grants),
        ("default privileges", a.default_grants, b.default_grants),
        ("sequence state", a.sequence_states, b.sequence_states),
        ("rows of", a.rows, b.rows),
    ):
        lines += _values(kind, ours, theirs)
    lines += _values("extension", {(k,): v for k, v in a.extensions.items()},
                     {(k,): v for k, v in b.extensions.items()})  # fmt: skip
    return lines


def _values(kind: str, a: Mapping[Any, str], b: Mapping[Any, str]) -> list[str]:
    lines = []
    for key in sorted(a.keys() | b.keys()):
        name = " ".join(str(k) for k in key) if kind == "grant" else ".".join(key)
        if key not in b:
            lines.append(f"{kind} {name} missing")
        elif key not in a:
            lines.append(f"{kind} {name} extra")
        elif a[key] != b[key]:
            lines.append(f"{kind} {name}: {_clip(a[key])} ≠ {_clip(b[key])}")
    return lines


def _clip(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Policy:
    schema: str
    table: str
    name: str
    permissive: bool
    roles: tuple[str, ...]
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    using: str | None
    check: str | None


def policy_rows(cur: Any, schemas: Iterable[str]) -> dict[MemberKey, Policy]:
    """Every row-level security policy in `schemas`, as CREATE POLICY needs it."""
    with _qualified_names(cur):
        rows = _rows(cur, _POLICIES_SQL, list(schemas))
    return {
        (r[0], r[1], r[2]): Policy(r[0], r[1], r[2], r[3] == "PERMISSIVE", tuple(r[4]), *r[5:])
        for r in rows
    }


def insertable_columns(cur: Any, schema: str, table: str) -> list[str]:
    """The columns an INSERT may name (not generated, not dropped), in table order."""
    cur.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s "
        "AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
        (schema, table),
    )
    return [str(r[0]) for r in cur.fetchall()]


def row_texts(cur: Any, schema: str, table: str) -> set[str]:
    """Every row of the table as JSON text (jsonb's own normal form: equal rows, equal
    text), for finding the rows two databases do not share."""
    from psycopg2 import sql

    cur.execute(
        sql.SQL("SELECT to_jsonb(r)::text FROM ONLY {} r").format(sql.Identifier(schema, table))
    )
    return {str(r[0]) for r in cur.fetchall()}


_DROPPABLE_SQL = """
SELECT kind, ref FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
           quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS ref, n.nspname, c.relname,
           c.oid, 'pg_class'::regclass AS catalog
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname = ANY(%(schemas)s)
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
               AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
  UNION ALL
    SELECT CASE WHEN p.prokind = 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
           p.oid::regprocedure::text, n.nspname, p.proname, p.oid, 'pg_proc'::regclass
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ANY(%(schemas)s)
  UNION ALL
    SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
           quote_ident(n.nspname) || '.' || quote_ident(t.typname), n.nspname, t.typname, t.oid,
           'pg_type'::regclass
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = ANY(%(schemas)s) AND t.typtype IN ('e', 'c', 'd', 'r')
      AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
) o
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.catalog AND d.objid = o.oid
                  AND d.deptype = 'e')
  AND NOT (o.kind = 'TABLE' AND o.relname = ANY(%(skip)s))
ORDER BY array_position(ARRAY['VIEW', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'TABLE',
                              'SEQUENCE', 'AGGREGATE', 'ROUTINE', 'DOMAIN', 'TYPE'], kind), ref
"""


def droppable(
    cur: Any, schemas: Iterable[str], skip: Collection[str] = SKIPPED
) -> list[tuple[str, str]]:
    """(kind, qualified name) of every object in `schemas` a DROP ... CASCADE removes one by
    one, dependants first; extensions' members, the tables in `skip` and the sequences
    tables own are left out."""
    with _qualified_names(cur):
        cur.execute(_DROPPABLE_SQL, {"schemas": list(schemas), "skip": list(skip)})
        return [(str(r[0]), str(r[1])) for r in cur.fetchall()]
