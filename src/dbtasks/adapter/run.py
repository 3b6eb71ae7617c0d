"""Running revisions in-process, one transaction each, reporting each as it lands.

The project's env.py runs as Alembic runs it; an `EnvironmentContext` of our own adds a
step callback and a transaction per revision to whatever that env.py configures, so the
plain env.py `alembic init` writes gets the same progress, timing and lock checks as ours.
The steps are the plan's revisions, in its order: the plan shown is the plan run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dbtasks import log, pg
from dbtasks.adapter.errors import resolving
from dbtasks.adapter.failures import (
    Interrupted,
    MigrationFailed,
    env_at_fault,
    error_reason,
    failure,
    first_pending,
    interrupted,
    stopped,
)
from dbtasks.adapter.workspace import CONNECTION_KEY, GRANT_KEY
from dbtasks.errors import ConfigError, DbTasksError, first_line
from dbtasks.guard import Intent

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.adapter.version_rows import Rider
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.grants import Grant
    from dbtasks.migrations.graph import Revision
    from dbtasks.migrations.version_table import VersionTable

__all__ = ["Interrupted", "MigrationFailed", "Step", "env_at_fault", "error_reason", "migrate"]


@dataclass(frozen=True)
class Step:
    """One revision applied or undone, reported inside its transaction, before the commit."""

    revision: Revision
    upgrade: bool
    seconds: float
    connection: Any  # the revision's connection, inside its transaction
    recorded: bool = False  # its timing row rode with its version row's move


StepCallback = Callable[[Step], None]
# The statement recording a step in its own transaction, and its parameters.
RowBuilder = Callable[[Step], "tuple[str, tuple[Any, ...]]"]


class _Progress:
    """Which revision of the plan runs, and since when. Each is timed once, at the first
    of its version row's move and its end, so its row and its report agree."""

    def __init__(self, ws: Workspace, plan: list[Revision], upgrade: bool) -> None:
        self.ws, self.plan, self.upgrade = ws, plan, upgrade
        self.done: list[str] = []
        self.started = time.perf_counter()
        self.timed: Step | None = None

    def current(self, connection: Any, revision_id: str | None = None) -> Step:
        timed = self.timed
        if timed is None or (revision_id is not None and timed.revision.id != revision_id):
            revision = self.ws.graph.get(revision_id) if revision_id else self.next()
            seconds = time.perf_counter() - self.started
            timed = self.timed = Step(revision, self.upgrade, seconds, connection)
        return timed

    def next(self) -> Revision:
        return self.plan[len(self.done)]  # the plan runs in its order

    def rider(self, rows: RowBuilder) -> Callable[[Any], Rider | None]:
        from dbtasks.adapter.version_rows import Rider

        def ride(connection: Any) -> Rider | None:
            step = self.current(connection)
            self.timed = replace(step, recorded=True)
            sql, params = rows(step)
            return Rider(sql, params, step.revision.id)

        return ride

    def finish(self) -> None:
        assert self.timed is not None
        self.done.append(self.timed.revision.id)
        self.timed = None
        self.started = time.perf_counter()

    def timed_error(self, exc: DbTasksError) -> Any:
        """Attach the failing revision and its running time, for the timing history."""
        exc.revision = first_pending(self.plan, self.done)  # type: ignore[attr-defined]
        exc.seconds = time.perf_counter() - self.started  # type: ignore[attr-defined]
        return exc


def migrate(
    ws: Workspace,
    connection: Connection,
    target: str,
    plan: list[Revision],
    on_step: StepCallback,
    grant: Grant,
    upgrade: bool = True,
    *,
    rows: RowBuilder | None = None,
) -> None:
    """Run exactly the revisions of `plan`, in its order, towards `target`, calling
    `on_step` after each. `rows` builds the statement recording a step, sent with the
    step's version row's move where it moves one (else `on_step` records it).
    Revisions run DDL: MIGRATE (DESTROY, to undo them) on the connection's database."""
    from dbtasks.adapter.env_url import checked, following
    from dbtasks.adapter.version_rows import moved_by_us

    intent = Intent.MIGRATE if upgrade else Intent.DESTROY
    grant.require(intent, connection)
    progress = _Progress(ws, plan, upgrade)

    def step(**kw: Any) -> None:
        # MigrationInfo.up_revision_id names the revision in both directions.
        done = progress.current(kw["ctx"].connection, kw["step"].up_revision_id)
        try:
            on_step(done)
        except DbTasksError:
            raise
        except Exception as exc:  # our own bookkeeping failed: the revision is not to blame
            raise DbTasksError(
                f"recording revision {done.revision.id} failed: {first_line(exc)}; "
                "it was rolled back"
            ) from exc
        progress.finish()

    ws.config.attributes[CONNECTION_KEY] = connection
    ws.config.attributes[GRANT_KEY] = grant
    pg.interrupted.clear()
    try:
        with (
            moved_by_us(progress.rider(rows) if rows is not None else None),
            following(ws.config, connection),
        ):
            _run(
                ws,
                target,
                step,
                progress,
                lambda given: checked(given, connection, grant, intent, ws.version.schema),
            )
    except KeyboardInterrupt:
        raise progress.timed_error(interrupted(ws, plan, progress.done, upgrade)) from None
    except Exception as exc:
        described, cause = _described(ws, progress, exc)
        raise described from cause
    finally:
        ws.config.attributes.pop(CONNECTION_KEY, None)
        ws.config.attributes.pop(GRANT_KEY, None)


def _described(
    ws: Workspace, progress: _Progress, exc: Exception
) -> tuple[DbTasksError, Exception | None]:
    """The error to report, and its cause: a revision's failure keeps the driver's error
    behind it (for the debug log); Ctrl-C, a lost lock and our own errors stand alone."""
    plan, done, upgrade = progress.plan, progress.done, progress.upgrade
    if pg.interrupted.is_set():
        return progress.timed_error(interrupted(ws, plan, done, upgrade)), None
    stop = pg.stopped()
    if isinstance(stop, DbTasksError):  # the guardian (the lock) cancelled the statement
        return progress.timed_error(stopped(ws, stop, plan, done)), None
    if isinstance(exc, DbTasksError) and not isinstance(exc, MigrationFailed):
        return progress.timed_error(exc), None
    found = failure(ws, first_pending(plan, done), len(done), exc, upgrade)
    return progress.timed_error(found), exc


def _run(
    ws: Workspace,
    target: str,
    step: Callable[..., None],
    progress: _Progress,
    covered: Callable[[Any], None],
) -> None:
    from alembic.runtime.environment import EnvironmentContext

    script = ws.script

    def steps(current: Any, context: Any) -> list[Any]:
        with resolving(ws.files):
            walked = [script.revision_map.get_revision(r.id) for r in progress.plan]
        progress.started = time.perf_counter()
        return migration_steps(script, walked, progress.upgrade)

    env = EnvironmentContext(ws.config, script, fn=steps, destination_rev=target)
    configure = env.configure

    def driven(*args: Any, **kw: Any) -> None:
        log.attach()  # an env.py's fileConfig() disables the loggers it does not name
        covered(kw.get("connection"))  # the guard judges where the DDL really goes
        _same_version_table(kw, ws.version)
        kw["on_version_apply"] = (*_tuple(kw.get("on_version_apply")), step)
        kw["transaction_per_migration"] = True
        configure(*args, **kw)

    # env.py reaches this context through the `alembic.context` proxy, which binds the
    # instance's attributes when it is entered: this instance's `configure` is ours.
    env.configure = driven  # type: ignore[method-assign]
    with env:
        script.run_env()


def migration_steps(script: Any, walked: list[Any], upgrade: bool) -> list[Any]:
    from alembic.runtime.migration import MigrationStep

    make = MigrationStep.upgrade_from_script if upgrade else MigrationStep.downgrade_from_script
    return [make(script.revision_map, s) for s in walked]


def _same_version_table(kw: dict[str, Any], version: VersionTable) -> None:
    """An env.py that names no version table gets ours; one that names another would
    record the history where dbtasks never reads it."""
    kw.setdefault("version_table", version.table)
    kw.setdefault("version_table_schema", version.schema)
    theirs = (kw["version_table_schema"], kw["version_table"])
    if theirs != (version.schema, version.table):
        raise ConfigError(
            f"env.py keeps the history in {theirs[0]}.{theirs[1]}, dbtasks reads "
            f"{version.schema}.{version.table}",
            "set DB_VERSION_SCHEMA and DB_VERSION_TABLE to match env.py",
        )


def _tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def stamp(ws: Workspace, connection: Connection, target: str, purge: bool, grant: Grant) -> None:
    """Set the version table to `target` without running any revision (or env.py):
    history is rewritten, so DESTROY on the connection's database."""
    from alembic.runtime.migration import MigrationContext
    from psycopg2 import sql

    grant.require(Intent.DESTROY, connection, schema=ws.version.schema)
    version = ws.version
    context = MigrationContext.configure(
        connection, opts={"version_table": version.table, "version_table_schema": version.schema}
    )
    schema = sql.Identifier(version.schema)
    table = sql.SQL("{}.{}").format(schema, sql.Identifier(version.table))
    with connection.begin():
        # The driver's cursor, in the same transaction: names composed as identifiers and
        # no parameters, so no ":" or "%" in a schema name is read as a placeholder.
        with pg.driver_cursor(connection) as cur:
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            cur.execute("SELECT to_regclass(%s)", (table.as_string(cur),))
            if purge and cur.fetchone()[0] is not None:
                cur.execute(sql.SQL("DELETE FROM {}").format(table))
        with resolving(ws.files):
            context.stamp(ws.script, target)
