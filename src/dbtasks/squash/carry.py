"""What a baseline must do besides loading pg_dump's output: the changes a history made
outside its own schemas, which a dump of those schemas leaves out.

Each function compares two databases (`src` and `dst`, with their fingerprints) and says,
as SQL, how to make `dst` look like `src`: forward (`src` the replayed history, `dst` a
fresh database) is what the baseline's upgrade adds; backward is its downgrade. It covers
extensions, and in the schemas the server or the Supabase baseline provides (`auth`,
`extensions`, `storage`, ...): functions, triggers, row-level security, policies, grants and
rows. What it cannot carry is a note; the fingerprint comparison then refuses the squash
if anything was left behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbtasks.catalog import MemberKey
from dbtasks.catalog.access import Policy, grant_rows, policy_rows
from dbtasks.catalog.fingerprint import Fingerprint
from dbtasks.catalog.objects import insertable_columns, row_texts


@dataclass
class Changes:
    first: list[str] = field(default_factory=list)  # before the dump: roles, extensions
    rows: list[str] = field(default_factory=list)  # rows of provided tables, before the dump
    last: list[str] = field(default_factory=list)  # after it: objects in provided schemas
    notes: list[str] = field(default_factory=list)  # what is not carried


@dataclass(frozen=True)
class Side:
    """One of the two databases compared: a cursor on it and its fingerprint."""

    cur: Any
    print: Fingerprint


def ident(name: str) -> str:
    """A name as an SQL identifier, always quoted (so no keyword or case is a problem)."""
    return '"' + name.replace('"', '""') + '"'


def literal(cur: Any, value: str) -> str:
    from psycopg2 import sql

    return str(sql.Literal(value).as_string(cur))


def between(src: Side, dst: Side, provided: tuple[str, ...]) -> Changes:
    """The SQL that makes `dst` look like `src`: extensions, then, in the `provided`
    schemas, rows, functions, triggers, row-level security, policies and grants."""
    changes = Changes(first=extensions(src.print, dst.print))
    changes.rows = rows(src, dst, provided)
    changes.last = [
        *functions(src.print, dst.print, provided),
        *triggers(src.print, dst.print, provided),
        *security(src.print, dst.print, provided),
        *policies(src, dst, provided),
        *grants(src, dst, provided),
    ]
    return changes


def extensions(src: Fingerprint, dst: Fingerprint) -> list[str]:
    found = []
    for name in sorted(src.extensions.keys() - dst.extensions.keys()):
        version, schema = src.extensions[name].split(" in ", 1)
        found += [
            f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}",
            f"CREATE EXTENSION IF NOT EXISTS {ident(name)} WITH SCHEMA {ident(schema)} "
            f"VERSION '{version}'",
        ]
    for name in sorted(src.extensions.keys() & dst.extensions.keys()):
        version, schema = src.extensions[name].split(" in ", 1)
        theirs, where = dst.extensions[name].split(" in ", 1)
        if where != schema:
            found.append(f"ALTER EXTENSION {ident(name)} SET SCHEMA {ident(schema)}")
        if theirs != version:
            found.append(f"ALTER EXTENSION {ident(name)} UPDATE TO '{version}'")
    found += [
        f"DROP EXTENSION IF EXISTS {ident(name)} CASCADE"
        for name in sorted(dst.extensions.keys() - src.extensions.keys())
    ]
    return found


def _in(provided: tuple[str, ...], keys: Any) -> list[Any]:
    return sorted(k for k in keys if k[0] in provided)


def functions(src: Fingerprint, dst: Fingerprint, provided: tuple[str, ...]) -> list[str]:
    found = []
    for key in _in(provided, src.functions.keys()):
        if src.functions[key] != dst.functions.get(key) and not src.functions[key].startswith(
            "aggregate "
        ):
            found.append(src.functions[key].strip())  # CREATE OR REPLACE FUNCTION ...
    for schema, signature in _in(provided, dst.functions.keys() - src.functions.keys()):
        name, arguments = signature.split("(", 1)
        found.append(f"DROP ROUTINE IF EXISTS {ident(schema)}.{ident(name)}({arguments}")
    return found


def _trigger(definition: str) -> str:
    return definition.rsplit(" [", 1)[0]  # our fingerprint's " [enabled]" suffix


def triggers(src: Fingerprint, dst: Fingerprint, provided: tuple[str, ...]) -> list[str]:
    found = []
    for key in _in(provided, src.triggers.keys() | dst.triggers.keys()):
        mine, theirs = src.triggers.get(key), dst.triggers.get(key)
        if mine == theirs:
            continue
        schema, table, name = key
        if theirs is not None:
            found.append(f"DROP TRIGGER IF EXISTS {ident(name)} ON {ident(schema)}.{ident(table)}")
        if mine is not None:
            found.append(_trigger(mine))
    return found


def security(src: Fingerprint, dst: Fingerprint, provided: tuple[str, ...]) -> list[str]:
    found = []
    for schema, table in _in(provided, src.security.keys() | dst.security.keys()):
        mine, theirs = src.security.get((schema, table), ""), dst.security.get((schema, table), "")
        on = f"ALTER TABLE {ident(schema)}.{ident(table)}"
        if mine.startswith("enabled") != theirs.startswith("enabled"):
            found.append(f"{on} {'ENABLE' if mine else 'DISABLE'} ROW LEVEL SECURITY")
        if mine.endswith("forced") != theirs.endswith("forced"):
            found.append(f"{on} {'' if mine.endswith('forced') else 'NO '}FORCE ROW LEVEL SECURITY")
    return found


def policies(src: Side, dst: Side, provided: tuple[str, ...]) -> list[str]:
    keys = _in(provided, src.print.policies.keys() | dst.print.policies.keys())
    changed = [k for k in keys if src.print.policies.get(k) != dst.print.policies.get(k)]
    if not changed:
        return []
    mine, theirs = policy_rows(src.cur, provided), policy_rows(dst.cur, provided)
    found = []
    for key in changed:
        schema, table, name = key
        if key in theirs:
            found.append(f"DROP POLICY IF EXISTS {ident(name)} ON {ident(schema)}.{ident(table)}")
        if key in mine:
            found.append(create_policy(mine[key]))
    return found


def create_policy(p: Policy) -> str:
    roles = ", ".join("PUBLIC" if r == "public" else ident(r) for r in p.roles)
    text = (
        f"CREATE POLICY {ident(p.name)} ON {ident(p.schema)}.{ident(p.table)} AS "
        f"{'PERMISSIVE' if p.permissive else 'RESTRICTIVE'} FOR {p.command} TO {roles}"
    )
    if p.using is not None:
        text += f" USING ({p.using})"
    if p.check is not None:
        text += f" WITH CHECK ({p.check})"
    return text


def grants(src: Side, dst: Side, provided: tuple[str, ...]) -> list[str]:
    keys = _in_grants(provided, src.print.grants.keys() | dst.print.grants.keys())
    changed = {k for k in keys if src.print.grants.get(k) != dst.print.grants.get(k)}
    if not changed:
        return []
    mine = {g.key: g for g in grant_rows(src.cur, provided) if g.key in changed}
    theirs = {g.key: g for g in grant_rows(dst.cur, provided) if g.key in changed}
    found = []
    for key in sorted(changed):
        grantee = "PUBLIC" if key[1] == "PUBLIC" else ident(key[1])
        have = mine[key].privileges if key in mine else frozenset()
        had = theirs[key].privileges if key in theirs else frozenset()
        on = (mine.get(key) or theirs[key]).target, (mine.get(key) or theirs[key]).column
        found += _revoke(on, grantee, had - have) + _grant(on, grantee, have - had)
    return found


def _in_grants(provided: tuple[str, ...], keys: Any) -> list[Any]:
    """Grant keys ("table auth.users", grantee) on objects of the provided schemas."""
    return [k for k in keys if k[0].split(" ", 1)[1].split(".", 1)[0] in provided]


def _privileges(privileges: frozenset[str], column: str | None) -> str:
    names = sorted(p.rstrip("*") for p in privileges)
    return ", ".join(f"{n} ({ident(column)})" if column else n for n in names)


def _grant(on: tuple[str, str | None], grantee: str, privileges: frozenset[str]) -> list[str]:
    target, column = on
    plain = frozenset(p for p in privileges if not p.endswith("*"))
    optioned = privileges - plain
    found = []
    if plain:
        found.append(f"GRANT {_privileges(plain, column)} ON {target} TO {grantee}")
    if optioned:
        found.append(
            f"GRANT {_privileges(optioned, column)} ON {target} TO {grantee} WITH GRANT OPTION"
        )
    return found


def _revoke(on: tuple[str, str | None], grantee: str, privileges: frozenset[str]) -> list[str]:
    target, column = on
    if not privileges:
        return []
    return [f"REVOKE {_privileges(privileges, column)} ON {target} FROM {grantee}"]


def rows(src: Side, dst: Side, provided: tuple[str, ...]) -> list[str]:
    """Rows a history added to (or removed from) tables of the provided schemas: the
    storage buckets, cron jobs, vault secrets and users its data migrations made."""
    found = []
    for schema, table in _in(provided, src.print.rows.keys() & dst.print.rows.keys()):
        if src.print.rows[(schema, table)] == dst.print.rows[(schema, table)]:
            continue
        mine, theirs = row_texts(src.cur, schema, table), row_texts(dst.cur, schema, table)
        name = f"{ident(schema)}.{ident(table)}"
        columns = ", ".join(ident(c) for c in insertable_columns(src.cur, schema, table))
        for row in sorted(theirs - mine):
            found.append(
                f"DELETE FROM ONLY {name} r WHERE to_jsonb(r) = {literal(src.cur, row)}::jsonb"
            )
        for row in sorted(mine - theirs):
            found.append(
                f"INSERT INTO {name} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} "
                f"FROM jsonb_populate_record(NULL::{name}, {literal(src.cur, row)}::jsonb)"
            )
    return found


def unreachable(src: Fingerprint, dst: Fingerprint, provided: tuple[str, ...]) -> list[str]:
    """Objects a history made in provided schemas that nothing here carries (tables,
    views, types, sequences): named, so that the refusal says what to move."""
    shape_a, shape_b = src.shape, dst.shape
    found: list[str] = []
    for kind, mine, theirs in (
        ("table", shape_a.tables, shape_b.tables),
        ("view", shape_a.views, shape_b.views),
        ("type", shape_a.enums, shape_b.enums),
        ("sequence", shape_a.sequences, shape_b.sequences),
    ):
        found += [
            f"{kind} {'.'.join(key)} is in {key[0]}, a schema the server provides: a "
            "squash dumps only the history's own schemas"
            for key in _in(provided, mine.keys() - theirs.keys())
        ]
    return found


__all__ = ["Changes", "MemberKey", "Side", "between", "ident", "literal", "unreachable"]
