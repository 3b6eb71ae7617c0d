"""The migration workflows behind `inv db.*`, each a sequence of named steps.

Every flow that changes the schema runs under the migration lock and re-reads the
current revision after taking it, so a process that waited finds the work already done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtasks.errors import DbTasksError
from dbtasks.guard import authorize
from dbtasks.migrations import autogen, plan, status
from dbtasks.migrations.lock import migration_lock
from dbtasks.migrations.runner import (
    Workspace,
    connect,
    current_heads,
    migrate,
    offline_sql,
    version_table_exists,
)
from dbtasks.migrations.runtime import prepare_connection
from dbtasks.stack import ensure_ready
from dbtasks.supabase import check_migratable

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.console import Console
    from dbtasks.migrations.plan import Revision
    from dbtasks.settings import Settings

INITIAL_MESSAGE = "initial schema"


def init(settings: Settings, console: Console) -> status.MigrationStatus:
    """Create the schema and migrate a database that has never been migrated."""
    check_migratable(settings)
    ensure_ready(settings, console)
    ws = Workspace.open(settings)
    with migration_lock(settings, console), connect(settings) as conn:
        if version_table_exists(conn, settings.schema):
            current = ", ".join(current_heads(conn, settings.schema)) or "base"
            raise DbTasksError(f"already initialized at {current}", "use `inv db.upgrade`")
        prepare_connection(conn, settings.schema)
        if not list(ws.script.walk_revisions()):
            _write_initial(ws, conn, console)
        _apply(ws, conn, console, "heads")
        return status.compute(settings, ws.script, current_heads(conn, settings.schema))


def _write_initial(ws: Workspace, conn: Connection, console: Console) -> None:
    new = autogen.autogenerate(ws, conn, INITIAL_MESSAGE)
    if new.path is None:
        raise DbTasksError(
            "there are no migrations and the models define no tables",
            "add models, or check DB_METADATA",
        )
    console.ok(
        f"wrote the initial migration {ws.relpath(new.path)} ({len(new.operations)} operations)"
    )


def upgrade(
    settings: Settings, console: Console, target: str = "heads", sql: bool = False
) -> status.MigrationStatus | None:
    """Apply pending revisions up to `target` (or print their SQL)."""
    check_migratable(settings)
    ensure_ready(settings, console)
    ws = Workspace.open(settings, output=console.out)
    if sql:
        with connect(settings) as conn:
            offline_sql(ws, _known_current(ws, conn), target, upgrade=True)
        return None
    return apply_pending(settings, console, target, ws)


def apply_pending(
    settings: Settings, console: Console, target: str = "heads", ws: Workspace | None = None
) -> status.MigrationStatus:
    """Under the lock: re-read the current revision, apply what is pending, report."""
    ws = ws or Workspace.open(settings)
    with migration_lock(settings, console), connect(settings) as conn:
        _apply(ws, conn, console, target)
        return status.compute(settings, ws.script, current_heads(conn, settings.schema))


def _apply(ws: Workspace, conn: Connection, console: Console, target: str) -> None:
    current = _known_current(ws, conn)
    todo = plan.pending(ws.script, current, target)
    if not todo:
        where = ", ".join(current) or "base"
        console.ok(f"already at {'head ' if target == 'heads' else ''}{where}: nothing to apply")
        return
    console.line(f"current: {', '.join(current) or '(none)'}")
    show_revisions(console, f"{len(todo)} pending", todo)
    with console.progress(len(todo), "applied") as advance:
        migrate(ws, conn, target, todo, lambda r: advance(f"{r.id} {r.message}"))


def downgrade(
    settings: Settings,
    console: Console,
    spec: str,
    yes: bool,
    sql: bool = False,
    allow_remote: bool = False,
) -> status.MigrationStatus | None:
    """Undo revisions down to `spec`: plan, show, confirm, act under the lock, report."""
    check_migratable(settings)
    ensure_ready(settings, console)
    ws = Workspace.open(settings, output=console.out)
    with connect(settings) as conn:
        current = _known_current(ws, conn)
        target = plan.resolve_downgrade(ws.script, current, spec)
        todo = plan.to_undo(ws.script, current, target)
        if not todo:
            console.ok(f"already at {target or 'base'}: nothing to undo")
            return None
        if sql:
            offline_sql(ws, current, target or "base", upgrade=False)
            return None
    show_revisions(console, f"{len(todo)} to undo", todo)
    action = f"undo {len(todo)} revision(s) on {settings.masked_url}"
    authorize(settings, console, action, yes=yes, allow_remote=allow_remote)
    return _undo(ws, console, target, todo)


def _undo(
    ws: Workspace, console: Console, target: str | None, todo: list[Revision]
) -> status.MigrationStatus:
    """Under the lock, undo exactly the confirmed plan, or nothing if the database moved."""
    settings = ws.settings
    with migration_lock(settings, console), connect(settings) as conn:
        if plan.to_undo(ws.script, _known_current(ws, conn), target) != todo:
            raise DbTasksError(
                "the database changed while waiting for confirmation",
                "run the downgrade again to see the new plan",
            )
        with console.progress(len(todo), "undone") as advance:
            step = lambda r: advance(f"{r.id} {r.message}")  # noqa: E731
            migrate(ws, conn, target or "base", todo, step, upgrade=False)
        return status.compute(settings, ws.script, current_heads(conn, settings.schema))


def revision(
    settings: Settings, console: Console, message: str, empty: bool = False
) -> autogen.NewRevision:
    """Write a new revision: autogenerated from the models unless `empty`."""
    text = autogen.validate_message(message)
    if empty:
        return autogen.empty_revision(Workspace.open(settings), text)
    check_migratable(settings)
    ws = Workspace.open(settings)
    ensure_ready(settings, console)
    heads = plan.heads(ws.script)
    if len(heads) > 1:
        raise DbTasksError(f"the scripts have {len(heads)} heads", "merge them first")
    with connect(settings) as conn:
        current = _known_current(ws, conn)
        if set(current) != set(heads):
            raise DbTasksError(
                f"the database is at {', '.join(current) or 'base'}, not at "
                f"head {', '.join(heads)}",
                "run `inv db.upgrade` first",
            )
        return autogen.autogenerate(ws, conn, text)


def current_status(settings: Settings, console: Console) -> status.MigrationStatus:
    from dbtasks import snapshot

    ensure_ready(settings, console)
    ws = Workspace.open(settings)
    with connect(settings) as conn:
        report = status.compute(settings, ws.script, current_heads(conn, settings.schema))
    if settings.backend != "external":
        report.snapshot = snapshot.state(settings)
    return report


def history(settings: Settings, console: Console, rng: str | None) -> list[plan.HistoryRow]:
    ensure_ready(settings, console)
    ws = Workspace.open(settings)
    with connect(settings) as conn:
        current = _known_current(ws, conn)
    return plan.history(ws.script, current, rng)


def _known_current(ws: Workspace, conn: Connection) -> tuple[str, ...]:
    """The current revisions, refusing to plan from one no script defines."""
    current = current_heads(conn, ws.settings.schema)
    unknown = plan.unknown(ws.script, current)
    if unknown:
        raise DbTasksError(
            f"the database is at {', '.join(unknown)}, which no script in "
            f"{ws.relpath(ws.script.dir)} defines",
            "check out the code that has it, or reset the database",
        )
    return current


def show_revisions(console: Console, title: str, revisions: list[Revision]) -> None:
    console.line(f"{title}:")
    console.table(("revision", "message"), [(r.id, r.message) for r in revisions])
