"""`db.reset`: name the target, pass the guard, rebuild, verify.

Native: clone the snapshot when its fingerprint matches, else drop, create, migrate, seed
and snapshot. External: drop and recreate `DB_SCHEMA` only. The fast path touches only
psycopg2, so a reset costs little more than `inv` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dbtasks import pg, snapshot
from dbtasks.guard import authorize
from dbtasks.stack import ensure_ready, get_stack

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.settings import Settings
    from dbtasks.stack import Stack


@dataclass(frozen=True)
class ResetOptions:
    yes: bool = False
    seed: bool = True
    allow_remote: bool = False
    use_snapshot: bool = True


def what_is_destroyed(settings: Settings) -> str:
    ep = settings.endpoint
    if settings.backend == "external":
        return f"schema {settings.schema!r} of database {ep.database!r} and all its data"
    if settings.backend == "compose":
        return f"the compose stack's volume: every database in it, including {ep.database!r}"
    return f"database {ep.database!r} and all its data"


def reset(
    settings: Settings, console: Console, options: ResetOptions, stack: Stack | None = None
) -> str:
    """Rebuild the database at head (and seeded); returns the closing summary."""
    destroyed = what_is_destroyed(settings)
    console.fields(
        [
            ("target", f"{settings.backend} {settings.masked_url}"),
            ("database", settings.endpoint.database),
            ("schema", settings.schema),
            ("destroys", destroyed),
        ]
    )
    authorize(
        settings,
        console,
        f"destroy {destroyed}",
        yes=options.yes,
        allow_remote=options.allow_remote,
    )
    stack = stack or get_stack(settings)
    if settings.backend == "compose":
        stack.destroy()  # the stack's own full reset: its volume goes too
    ensure_ready(settings, console, stack)
    if settings.backend == "external":
        return _rebuild_schema(settings, console, options)
    return _reset_database(settings, console, options)


def _reset_database(settings: Settings, console: Console, options: ResetOptions) -> str:
    database = settings.endpoint.database
    with pg.maintenance(settings.endpoint) as cur:
        found, built = ensure_snapshot(
            settings, console, cur, options.seed, rebuild=not options.use_snapshot
        )
        snapshot.restore(cur, found, database)
    snapshot.verify(settings.endpoint, settings.schema, found, database)
    how = "rebuilt from the migrations (snapshot saved)" if built else "reset from snapshot"
    return f"{how}: at head {', '.join(found.heads) or 'base'}"


def ensure_snapshot(
    settings: Settings, console: Console, cur: Any, seed: bool, rebuild: bool = False
) -> tuple[snapshot.Snapshot, bool]:
    """The snapshot matching the current files, built if missing; True when built now.

    It is built in a scratch database, so the developer's database is untouched until the
    clone, and under an advisory lock, so parallel test workers build it once.
    """
    name = snapshot.snapshot_name(settings.endpoint.database, snapshot.fingerprint(settings, seed))
    with snapshot.build_lock(cur, name):
        found = None if rebuild else snapshot.find(cur, name)
        if found:
            return found, False
        scratch = f"{name}_build"
        pg.drop_database(cur, scratch)
        pg.create_database(cur, scratch)
        try:
            heads = _migrate_and_seed(_on_database(settings, scratch), console, seed)
            snapshot.build(cur, scratch, name, heads)
        finally:
            pg.drop_database(cur, scratch)
        return snapshot.Snapshot(name, heads), True


def _on_database(settings: Settings, database: str) -> Settings:
    return replace(settings, endpoint=replace(settings.endpoint, database=database))


def _rebuild_schema(settings: Settings, console: Console, options: ResetOptions) -> str:
    from sqlalchemy import text

    from dbtasks.migrations.runner import connect

    with connect(settings) as conn:
        quoted = conn.dialect.identifier_preparer.quote_schema(settings.schema)
        conn.execute(text(f"DROP SCHEMA IF EXISTS {quoted} CASCADE"))
        conn.commit()
    heads = _migrate_and_seed(settings, console, options.seed)
    return f"rebuilt schema {settings.schema}: at head {', '.join(heads) or 'base'}"


def _migrate_and_seed(settings: Settings, console: Console, seed: bool) -> tuple[str, ...]:
    from dbtasks.migrations.commands import apply_pending
    from dbtasks.migrations.runner import connect, current_heads
    from dbtasks.seeds import apply_seeds

    apply_pending(settings, console)
    with connect(settings) as conn:
        if seed:
            ran = apply_seeds(settings, conn)
            console.step(f"seeded from {', '.join(ran)}" if ran else "no seed files")
        return current_heads(conn, settings.schema)
