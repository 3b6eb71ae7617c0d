"""The fingerprint: everything a squash must reproduce, as plain, comparable data.

`describe` reads the shape of some schemas; a squashed baseline must also reproduce what
runs in them and who may use it: functions, triggers, row-level security, grants, the
extensions, where each sequence stands and the rows of every table. `fingerprint` reads
all of that for every schema of the database that is not Postgres' own, so that two
databases built two ways (replaying a history, loading one baseline) compare with `==`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dbtasks.catalog import (
    SKIPPED,
    Description,
    MemberKey,
    TableKey,
    describe,
    diff,
    members,
    qualified_names,
    query_rows,
)
from dbtasks.catalog.access import _DEFAULT_ACL_SQL, _GRANTS_SQL, _POLICIES_SQL, _grants

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
    with qualified_names(cur):
        if schemas is None:
            cur.execute(f"SELECT n.nspname FROM pg_namespace n WHERE {_NOT_SYSTEM}")
            schemas = [str(r[0]) for r in cur.fetchall()]
        wanted = list(schemas)
        shape = describe(cur, wanted, skip)
        skipped = _skipped_tables(cur, wanted, shape)
        return Fingerprint(
            shape=shape,
            functions={(r[0], r[1]): r[2] for r in query_rows(cur, _FUNCTIONS_SQL, wanted)},
            triggers=members(query_rows(cur, _TRIGGERS_SQL, wanted), skipped, lambda r: r[3]),
            policies=members(query_rows(cur, _POLICIES_SQL, wanted), skipped, _policy),
            security={(r[0], r[1]): r[2] for r in query_rows(cur, _SECURITY_SQL, wanted)},
            grants=_grants(query_rows(cur, _GRANTS_SQL, wanted), skipped),
            default_grants={(r[0], r[1]): r[2] for r in query_rows(cur, _DEFAULT_ACL_SQL, wanted)},
            extensions={
                r[0]: f"{r[1]} in {r[2]}" for r in query_rows(cur, _EXTENSIONS_SQL, wanted)
            },
            sequence_states=_sequence_states(cur, wanted, shape),
            rows=_table_rows(cur, shape),
        )


def _skipped_tables(cur: Any, schemas: list[str], shape: Description) -> set[TableKey]:
    """The tables `describe` left out (version table, timing history), by key."""
    every = {(r[0], r[1]) for r in query_rows(cur, _ALL_TABLES_SQL, schemas)}
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

_SECURITY_SQL = """
SELECT n.nspname, c.relname,
       'enabled' || CASE WHEN c.relforcerowsecurity THEN ', forced' ELSE '' END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relrowsecurity AND n.nspname = ANY(%(schemas)s)
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
