"""New tenant schemas, created at head as copies of a template schema instead of replaying
the history (`db.upgrade --create-missing` on a schema-per-tenant set).

Postgres has no `CREATE SCHEMA ... TEMPLATE`, so the copy is a dump: the tenant set's
snapshot (the reset's machinery, migrated once with a template schema of its own, rebuilt
only when a revision file changes) is cloned to a scratch database and dumped with
pg_dump, rows and version table included. Each new tenant then loads that dump in one
transaction and renames the template schema to its own name. A rename keeps every object's
identity, so defaults, sequences, foreign keys, views and triggers follow it; only text
that names the schema (a function body, a function's `SET search_path`) would not, and
schema-per-tenant revisions run with `search_path` rather than naming their schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.fleet.members import Member
    from dbtasks.grants import ScratchSpace
    from dbtasks.settings import Settings

ACTION = "create a tenant schema"


def create_missing(members: Sequence[Member], template_db: str, console: Console) -> list[str]:
    """Copy the template into every member schema of one tenant set (one database) that
    does not exist yet; their names. Refused a template (production), it leaves them to
    be migrated from empty like any other member."""
    from dbtasks import pg
    from dbtasks.fleet.targets import Role
    from dbtasks.guard import Intent, refusal

    first = members[0].settings
    with pg.session(first.endpoint, None, "dbtasks fleet") as cur:
        missing = _missing(cur, members)
    if not missing:
        return []
    remote_ok = members[0].target.role is not Role.PRODUCTION
    refused = refusal(first, Intent.WRITE, "build the tenant template", remote_ok)
    if refused:
        console.line(f"{len(missing)} tenant schema(s) missing, migrating from empty ({refused})")
        return []
    template = template_schema(members[0].target.name)
    dump = _dump(missing[0].settings, template_db, template, remote_ok)
    conn = pg.connect(first.endpoint, None, "dbtasks fleet")
    try:
        for member in missing:
            _load(conn, member, dump, template)
    finally:
        conn.close()
    console.line(f"created {len(missing)} tenant schema(s), copied from a template at head")
    return [m.name for m in missing]


def template_schema(target: str) -> str:
    """The template's schema: a name no tenant is likely to have (checked when loading)."""
    return "dbtasks_tenant_" + hashlib.sha256(target.encode()).hexdigest()[:12]


def _missing(cur: Any, members: Sequence[Member]) -> list[Member]:
    cur.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
        ([m.settings.schema for m in members],),
    )
    present = {str(row[0]) for row in cur.fetchall()}
    return [m for m in members if m.settings.schema not in present]


def _dump(member: Settings, template_db: str, schema: str, remote_ok: bool) -> str:
    """The template schema at head, as SQL: built (or found) as a snapshot, cloned to a
    scratch database that may take connections, dumped, dropped."""
    from dbtasks import guard, pg
    from dbtasks.snapshot import derived_name
    from dbtasks.squash.dump import pg_dump

    ep = member.endpoint
    settings = replace(
        member, endpoint=replace(ep, database=template_db), schema=schema, version_schema=None
    )
    space = guard.scratch_space(settings, "build the tenant template", remote_ok)
    with pg.session(ep, pg.MAINTENANCE_DB, "dbtasks fleet") as cur:
        frozen = _snapshot(settings, cur, space)
        scratch = derived_name(template_db, "dump", frozen.rsplit("_", 1)[-1])
        pg.drop_database(cur, scratch, space.grant(scratch))
        pg.create_database(cur, scratch, space.grant(scratch), template=frozen)
        try:
            return _without_meta(pg_dump(settings, replace(ep, database=scratch), [schema], ()))
        finally:
            pg.drop_database(cur, scratch, space.grant(scratch))


def _snapshot(settings: Settings, cur: Any, space: ScratchSpace) -> str:
    from dbtasks import guard
    from dbtasks.fleet.tenants import quiet
    from dbtasks.flows.reset import ensure_snapshot
    from dbtasks.guard import Intent
    from dbtasks.stack import get_stack
    from dbtasks.workflow import Work

    reading = guard.grant(settings, Intent.READ, "read")  # its effects ask the space
    work = Work(settings, quiet(), get_stack(settings), reading)
    with work.resources:
        found, _ = ensure_snapshot(work, cur, space, seed=False)
    return found.name


def _without_meta(dump: str) -> str:
    from dbtasks.squash.dump import META

    return "\n".join(line for line in dump.splitlines() if not line.startswith(META))


def _load(conn: Any, member: Member, dump: str, template: str) -> None:
    """The dump, then the rename, in one transaction: MIGRATE on the tenant's schema. A
    tenant that appeared meanwhile (another run) makes the rename fail and roll back."""
    import psycopg2
    from psycopg2 import sql

    from dbtasks import guard
    from dbtasks.errors import DbTasksError, last_line
    from dbtasks.guard import Intent

    grant = guard.grant(member.settings, Intent.MIGRATE, ACTION)
    rename = sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
        sql.Identifier(template), sql.Identifier(member.settings.schema)
    )
    with conn.cursor() as cur:
        grant.require(Intent.MIGRATE, cur, schema=member.settings.schema)
        try:
            cur.execute(dump)  # no parameters: psycopg2 sends the text as it is
            cur.execute(rename)
        except psycopg2.Error as exc:
            conn.rollback()
            why = last_line(str(exc)) or type(exc).__name__
            raise DbTasksError(f"{member.name}: the template could not be copied: {why}") from None
    conn.commit()
