"""`db.reset`: name the target, pass the guard, rebuild, verify.

What a reset does is the backend's capability: clone a template snapshot (when its
fingerprint matches, else drop, create, migrate, seed and snapshot), recreate the whole
stack, or drop and recreate `DB_SCHEMA` only on a database dbtasks does not own. The fast
path touches only psycopg2, so a reset costs little more than `inv` itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dbtasks import log, pg, snapshot
from dbtasks.guard import Intent
from dbtasks.stack import ResetMode
from dbtasks.workflow import Flow, Work, execute

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.migrations.graph_cache import Locations
    from dbtasks.migrations.lock import Held
    from dbtasks.settings import Settings
    from dbtasks.stack import Stack


logger = logging.getLogger("dbtasks.reset")


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


class Reset(Flow[ResetPlan, str]):
    intent = Intent.DESTROY
    action = "reset"
    locks = False  # the database the lock lives in is dropped; snapshots lock their own
    ready = False  # the stack may be thrown away first (RECREATE): act starts it

    def __init__(self, options: ResetOptions) -> None:
        self.options = options

    def plan(self, work: Work) -> ResetPlan:
        caps = work.stack.capabilities
        ep = work.settings.endpoint
        return ResetPlan(caps.reset, caps.destroyed_by_reset(ep.database, work.settings.schema))

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
            work.stack.destroy()  # the stack's own full reset: its storage goes too
        ensure_ready(work.settings, work.console, work.stack)
        if plan.mode is ResetMode.SCHEMA:
            return _rebuild_schema(work, self.options.seed)
        if plan.mode is ResetMode.RECREATE:
            heads = migrate_and_seed(work.settings, work.console, work.stack, self.options.seed)
            return f"recreated the stack: at head {', '.join(heads) or 'base'}"
        return _reset_database(work, self.options)

    def idle(self, work: Work, plan: ResetPlan) -> str:
        raise AssertionError("a reset always acts")


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


def _reset_database(work: Work, options: ResetOptions) -> str:
    settings = work.settings
    database = settings.endpoint.database
    with pg.maintenance(settings.endpoint) as cur:
        found, built = ensure_snapshot(
            settings,
            work.console,
            cur,
            options.seed,
            work.locations,
            rebuild=not options.use_snapshot,
            stack=work.stack,
        )
        snapshot.restore(cur, found, database)
    snapshot.verify(settings, found, database)
    how = "rebuilt from the migrations (snapshot saved)" if built else "reset from snapshot"
    why = "no snapshot matched the files" if built else "the snapshot matched the files"
    log.event(
        logger, "reset.rebuilt" if built else "reset.cloned", f"{how} ({why})", snapshot=found.name
    )
    return f"{how}: at head {', '.join(found.heads) or 'base'}"


def ensure_snapshot(
    settings: Settings,
    console: Console,
    cur: Any,
    seed: bool,
    where: Locations,
    rebuild: bool = False,
    stack: Stack | None = None,
) -> tuple[snapshot.Snapshot, bool]:
    """The snapshot matching the current files, built if missing; True when built now.

    It is built in a scratch database, so the developer's database is untouched until the
    clone, and under an advisory lock, so parallel test workers build it once.
    """
    database = settings.endpoint.database
    name = snapshot.snapshot_name(database, snapshot.fingerprint(settings, seed, where))
    with snapshot.build_lock(cur, name):
        found = None if rebuild else snapshot.find(cur, name)
        if found:
            return found, False
        scratch = snapshot.scratch_name(name)
        pg.drop_database(cur, scratch)
        pg.create_database(cur, scratch)
        try:
            heads = migrate_and_seed(on_database(settings, scratch), console, stack, seed)
            snapshot.build(cur, scratch, name, (database, seed), heads)
        finally:
            pg.drop_database(cur, scratch)
        return snapshot.Snapshot(name, heads), True


def on_database(settings: Settings, database: str) -> Settings:
    return replace(settings, endpoint=replace(settings.endpoint, database=database))


def _rebuild_schema(work: Work, seed: bool) -> str:
    from psycopg2 import sql

    schema, version = work.settings.schema, work.version
    with pg.session(work.settings.endpoint) as cur:
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        if version.schema != schema:  # a history kept elsewhere (adopted) goes with it
            cur.execute(f"DROP TABLE IF EXISTS {version.qualified(cur)}")
    heads = migrate_and_seed(work.settings, work.console, work.stack, seed)
    return f"rebuilt schema {schema}: at head {', '.join(heads) or 'base'}"


def migrate_and_seed(
    settings: Settings, console: Console, stack: Stack | None, seed: bool
) -> tuple[str, ...]:
    """Upgrade to every head, then seed; the stack is known to be ready."""
    from dbtasks.migrations.apply import Upgrade
    from dbtasks.seeds import Seed

    final = execute(Upgrade(), settings, console, stack=stack)
    if seed:
        ran = execute(Seed(), settings, console, stack=stack)
        console.step(f"seeded from {', '.join(ran)}" if ran else "no seed files")
    return final.current
