"""Where a diagram's schema comes from: the catalog of a scratch database migrated to a
revision, never the developer's database (unless `live`, which only reads it).

At the heads the scratch database is a clone of the snapshot `db.reset` keeps (built
once, unseeded, when the revision files change), so drawing costs a template clone and
a handful of catalog queries. At any other revision it is a new database migrated from
nothing. Either is a scratch database of a space the guard issues under the rules of a
write (never production, the pooler or hosted Supabase; another host only with
`allow_remote`), and is dropped when the read ends, Ctrl-C included. A role that may not
create databases gets a throwaway native cluster instead, as `db.validate` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dbtasks import guard, pg
from dbtasks.erd.model import Schema
from dbtasks.erd.read import read_schema

if TYPE_CHECKING:
    from dbtasks.grants import ScratchSpace
    from dbtasks.migrations.graph import Revision
    from dbtasks.workflow import Work

ACTION = "build the diagram's scratch database"


@dataclass(frozen=True)
class Drawn:
    """A schema, and the revisions it was read at (the database's own, for `live`)."""

    schema: Schema
    revisions: tuple[str, ...]
    where: str  # "scratch" or "live"


def _skipped(work: Work) -> tuple[str, ...]:
    from dbtasks.catalog import SKIPPED

    return (*SKIPPED, work.settings.version_table)


def live(work: Work) -> Drawn:
    """The configured database as it is: only read."""
    schema = read_schema(work.cur, _skipped(work))
    return Drawn(schema, work.current(check=False), "live")


def at_revision(work: Work, rev: str, allow_remote: bool = False) -> Drawn:
    """The schema a database migrated from nothing to `rev` has."""
    from dbtasks.errors import Refused
    from dbtasks.health import probe

    try:  # the guard first: a server it refuses is never even connected to
        space = guard.scratch_space(work.settings, ACTION, allow_remote)
    except Refused as exc:
        raise Refused(exc.message, "--live reads the configured database itself") from None
    from dbtasks.validate.scratch import can_create_databases

    probe(replace(work.settings.endpoint, database=pg.MAINTENANCE_DB))
    own_server = can_create_databases(work.settings)
    if own_server and _every_head(work, rev):
        return _from_snapshot(work, space)
    from dbtasks.adapter.plan import upgrade_plan

    target = "heads" if _every_head(work, rev) else _from_base(rev)
    plan = upgrade_plan(work.ws, (), target)
    if not plan:  # base: nothing the history made
        return Drawn(Schema({}), (), "scratch")
    if not own_server:  # a role without CREATEDB: as db.validate and db.plan do
        return _on_own_cluster(work, target, plan)
    return _migrated(work, space, target, plan)


def _from_base(rev: str) -> str:
    """A scratch database starts at base: +N counts from there, -N back from the head."""
    rev = rev.strip()
    return f"head{rev}" if rev[:1] == "-" and rev[1:].isdigit() else rev


def _every_head(work: Work, rev: str) -> bool:
    """`rev` names every head (answered from the cached graph, without Alembic)."""
    return rev.strip() == "heads" or (rev.strip() == "head" and len(work.graph.heads) == 1)


def _from_snapshot(work: Work, space: ScratchSpace) -> Drawn:
    from dbtasks.flows.reset import ensure_snapshot

    with pg.maintenance(work.settings.endpoint) as cur:
        found, _ = ensure_snapshot(work, cur, space, seed=False)
    with (
        _scratch(work, space, template=found.name) as name,
        pg.session(work.settings.endpoint, name) as cur,
    ):
        schema = read_schema(cur, _skipped(work))
    return Drawn(schema, tuple(sorted(found.heads)), "scratch")


def _migrated(work: Work, space: ScratchSpace, rev: str, plan: list[Revision]) -> Drawn:
    from dbtasks.adapter.run import migrate

    with _scratch(work, space) as name:
        scratch = work.on_database(name, space.grant(name))
        with scratch.resources:
            migrate(scratch.ws, scratch.conn, rev, plan, lambda step: None, scratch.grant)
            scratch.conn.commit()
            schema = read_schema(scratch.cur, _skipped(work))
    return Drawn(schema, _heads_of(plan), "scratch")


def _on_own_cluster(work: Work, rev: str, plan: list[Revision]) -> Drawn:
    """The history migrated on a throwaway native cluster, destroyed afterwards."""
    from dbtasks.adapter.run import migrate
    from dbtasks.adapter.runtime import prepare_connection
    from dbtasks.validate.scratch import own_cluster

    with own_cluster(work.settings, work.console) as scratch:
        connection = pg.engine(scratch.settings.endpoint).connect()
        try:
            prepare_connection(connection, work.settings, scratch.grant)
            migrate(work.ws, connection, rev, plan, lambda step: None, scratch.grant)
            connection.commit()
        finally:
            connection.close()
        ep = scratch.settings.endpoint
        with pg.session(ep, ep.database) as cur:
            schema = read_schema(cur, _skipped(work))
    return Drawn(schema, _heads_of(plan), "scratch")


def _heads_of(plan: list[Revision]) -> tuple[str, ...]:
    inside = {down for r in plan for down in r.down}
    return tuple(sorted(r.id for r in plan if r.id not in inside))


@contextmanager
def _scratch(work: Work, space: ScratchSpace, template: str | None = None) -> Iterator[str]:
    """A new scratch database (a clone of `template`), dropped when the block ends."""
    from dbtasks.snapshot import derived_name

    name = derived_name(work.settings.endpoint.database, "erd", uuid.uuid4().hex[:12])
    granted = space.grant(name)
    with pg.maintenance(work.settings.endpoint) as cur:
        pg.create_database(cur, name, granted, template=template)
    try:
        yield name
    finally:
        _drop(work, name, granted)


def _drop(work: Work, name: str, granted: Any) -> None:
    import psycopg2

    from dbtasks.errors import DbTasksError

    try:
        with pg.maintenance(work.settings.endpoint) as cur:
            pg.drop_database(cur, name, granted)
    except (psycopg2.Error, DbTasksError) as exc:  # the error that ended the block matters more
        work.console.warn(f"could not drop the scratch database {name}: {exc}")
