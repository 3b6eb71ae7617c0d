"""Who may do what: grants, default privileges and row-level security policies, read
from the catalogs as a squash must write them again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dbtasks.catalog import MemberKey, TableKey, qualified_names, query_rows

_POLICIES_SQL = """
SELECT schemaname, tablename, policyname, permissive, roles::text[], cmd, qual, with_check
FROM pg_policies WHERE schemaname = ANY(%(schemas)s)
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
    with qualified_names(cur):
        rows = query_rows(cur, _GRANTS_SQL, list(schemas))
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
    with qualified_names(cur):
        rows = query_rows(cur, _POLICIES_SQL, list(schemas))
    return {
        (r[0], r[1], r[2]): Policy(r[0], r[1], r[2], r[3] == "PERMISSIVE", tuple(r[4]), *r[5:])
        for r in rows
    }
