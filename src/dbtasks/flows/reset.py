"""`db.reset`: name the target, pass the guard, rebuild, verify.

What a reset does is the backend's capability: clone a template snapshot (when its
fingerprint matches, else drop, create, migrate, seed and snapshot), recreate the whole
stack, or drop and recreate `DB_SCHEMA` only on a database dbtasks does not own. The fast
path touches only psycopg2, so a reset costs little more than `inv` itself.

The rebuild composes the upgrade's and the seed's steps on the reset's own `Work`: it is
granted DESTROY on exactly what its "destroys:" line names (and scratch databases for the
snapshot), and nothing it does can reach further. Resets of one database run one at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks import guard, log, pg, snapshot
from dbtasks.errors import Refused
from dbtasks.guard import Intent
from dbtasks.stack import ResetMode
from dbtasks.workflow import Flow, Work, execute

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.grants import ScratchSpace
    from dbtasks.migrations.lock import Held
    from dbtasks.settings import Settings
    from dbtasks.stack import Stack


logger = logging.getLogger("dbtasks.flows.reset")
AGAIN = "inv db.reset --yes"  # what a failed rebuild's hint runs


@dataclass(frozen=True)
class ResetOptions:
    yes: bool = False
    seed: bool = True
    allow_remote: bool = False
    use_snapshot: bool = True


@dataclass(frozen=True)
class ResetPlan:
    mode: ResetMode
    destroys: str


def schemas_reset(settings: Settings) -> tuple[str, ...]:
    """What a schema reset drops: DB_SCHEMA, and the schema DB_VERSION_SCHEMA names for the
    version table (only that table of it)."""
    version = settings.version_schema
    return (
        (settings.schema, version) if version and version != settings.schema else (settings.schema,)
    )


class Reset(Flow[ResetPlan, str]):
    intent = Intent.DESTROY
    action = "reset"
    locks = False  # the database the lock lives in is dropped: resets lock their own
    ready = False  # the stack may be thrown away first (RECREATE): act starts it

    def __init__(self, options: ResetOptions) -> None:
        self.options = options

    def scope(self, settings: Settings, stack: Stack) -> dict[str, Any]:
        mode = stack.capabilities.reset
        if mode is ResetMode.RECREATE:
            return {"whole_server": True}
        if mode is ResetMode.SCHEMA:
            return {"schemas": schemas_reset(settings)}
        return {}

    def plan(self, work: Work) -> ResetPlan:
        caps = work.stack.capabilities
        settings = work.settings
        destroys = caps.destroyed_by_reset(settings.endpoint.database, settings.schema)
        if caps.reset is ResetMode.SCHEMA and len(schemas_reset(settings)) > 1:
            destroys += (
                f", and the version table {settings.version_schema}.{settings.version_table}"
            )
        return ResetPlan(caps.reset, destroys)

    def show(self, work: Work, plan: ResetPlan) -> bool:
        settings = work.settings
        work.console.fields(
            [
                ("target", f"{settings.backend} {settings.masked_url}"),
                ("database", settings.endpoint.database),
                ("schema", settings.schema),
                ("destroys", plan.destroys),
            ]
        )
        return True

    def consent(self, work: Work, plan: ResetPlan) -> str:
        return f"destroy {plan.destroys}"

    def act(self, work: Work, plan: ResetPlan, held: Held | None) -> str:
        from dbtasks.stack import ensure_ready

        if plan.mode is ResetMode.RECREATE:
            work.stack.destroy(work.grant)  # the stack's own full reset: its storage goes too
            ensure_ready(work.settings, work.console, work.stack)
            heads = rebuild(work, self.options.seed)
            return f"recreated the stack: at head {', '.join(heads) or 'base'}"
        ensure_ready(work.settings, work.console, work.stack)
        with _one_reset_at_a_time(work, on_target=plan.mode is ResetMode.SCHEMA):
            if plan.mode is ResetMode.SCHEMA:
                return _rebuild_schema(work, self.options.seed)
            return _reset_database(work, self.options)


def reset(
    settings: Settings, console: Console, options: ResetOptions, stack: Stack | None = None
) -> str:
    """Rebuild the database at head (and seeded); returns the closing summary."""
    return execute(
        Reset(options),
        settings,
        console,
        yes=options.yes,
        allow_remote=options.allow_remote,
        stack=stack,
    )


@contextmanager
def _one_reset_at_a_time(work: Work, on_target: bool) -> Iterator[None]:
    """A lock per database, so a second reset waits and says so: on the maintenance
    database when the database itself is dropped, else on the database (a database
    dbtasks does not own may not let it into the maintenance database)."""
    from dbtasks.migrations.lock import migration_lock, reset_key

    settings = work.settings
    key = reset_key(settings.endpoint.database)
    if on_target:
        with migration_lock(settings, work.console, work.cur, key=key, name="another reset"):
            yield
        return
    maintenance = pg.session(settings.endpoint, pg.MAINTENANCE_DB, application="dbtasks reset")
    with (
        maintenance as cur,
        migration_lock(settings, work.console, cur, key=key, name="another reset"),
    ):
        yield


def _reset_database(work: Work, options: ResetOptions) -> str:
    settings = work.settings
    database = settings.endpoint.database
    space = guard.scratch_space(settings, "build a snapshot", parent=work.grant)
    with pg.maintenance(settings.endpoint) as cur:
        found, built = ensure_snapshot(
            work, cur, space, options.seed, rebuild=not options.use_snapshot
        )
        snapshot.restore(cur, found, database, work.grant)
    snapshot.verify(settings, found, database)
    how = "rebuilt from the migrations (snapshot saved)" if built else "reset from snapshot"
    why = "no snapshot matched the files" if built else "the snapshot matched the files"
    log.event(
        logger, "reset.rebuilt" if built else "reset.cloned", f"{how} ({why})", snapshot=found.name
    )
    return f"{how}: at head {', '.join(found.heads) or 'base'}"


def ensure_snapshot(
    work: Work, cur: Any, space: ScratchSpace, seed: bool, rebuild: bool = False
) -> tuple[snapshot.Snapshot, bool]:
    """The snapshot matching the current files, built if missing; True when built now.

    It is built in a scratch database, so the developer's database is untouched until the
    clone, and under an advisory lock, so parallel test workers build it once.
    """
    settings = work.settings
    database = settings.endpoint.database
    name = snapshot.snapshot_name(database, snapshot.fingerprint(settings, seed, work.locations))
    with snapshot.build_lock(cur, name):
        found = None if rebuild else snapshot.find(cur, name)
        if found:
            return found, False
        scratch = snapshot.scratch_name(name)
        pg.drop_database(cur, scratch, space.grant(scratch))
        pg.create_database(cur, scratch, space.grant(scratch))
        try:
            heads = rebuild_on(work, scratch, space, seed)
            snapshot.build(cur, scratch, name, (database, seed), heads, space)
        finally:
            pg.drop_database(cur, scratch, space.grant(scratch))
        return snapshot.Snapshot(name, heads), True


def rebuild_on(work: Work, database: str, space: ScratchSpace, seed: bool) -> tuple[str, ...]:
    """Migrate (and seed) scratch `database` in the same command, under its scratch grant;
    its sessions end before it is frozen (a template must have none)."""
    scratch = work.on_database(database, space.grant(database))
    with scratch.resources:
        return rebuild(scratch, seed)


def rebuild(work: Work, seed: bool) -> tuple[str, ...]:
    """Upgrade `work`'s database to every head, then seed it, under `work`'s grant (a reset
    holds DESTROY, which covers both): the upgrade's and the seed's own steps, composed."""
    from dbtasks.flows.migrate import Upgrade, run
    from dbtasks.flows.seed import seed_into

    with work.lock() as held:
        move = Upgrade().plan(work)
        if move.revisions:
            run(work, move, held, upgrade=True)
    if seed:
        seed_into(work, work.grant, AGAIN)
    return work.current()


def _rebuild_schema(work: Work, seed: bool) -> str:
    from dbtasks.migrations.version_table import exists, is_shaped

    schema, version = work.settings.schema, work.version
    if version.schema != schema and exists(work.cur, version) and not is_shaped(work.cur, version):
        raise Refused(
            f"refusing to reset: {version.schema}.{version.table} (DB_VERSION_SCHEMA, "
            "DB_VERSION_TABLE) is not an Alembic version table",
            "check DB_VERSION_SCHEMA and DB_VERSION_TABLE",
        )
    pg.drop_schema(work.cur, schema, work.grant)
    if version.schema != schema:  # the version table DB_VERSION_SCHEMA names goes with it
        pg.drop_table(work.cur, version.schema, version.table, work.grant)
    heads = rebuild(work, seed)
    return f"rebuilt schema {schema}: at head {', '.join(heads) or 'base'}"
