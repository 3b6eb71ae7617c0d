"""Running revisions in-process, one transaction each, reporting each as it lands.

The project's env.py runs as Alembic runs it; an `EnvironmentContext` of our own adds a
step callback and a transaction per revision to whatever that env.py configures, so the
plain env.py `alembic init` writes gets the same progress, timing and lock checks as ours.
The steps are walked with the same `iterate_revisions` call the plan used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import log, pg
from dbtasks.adapter.errors import resolving
from dbtasks.adapter.workspace import CONNECTION_KEY, GRANT_KEY
from dbtasks.errors import ConfigError, DbTasksError, ExitCode, first_line
from dbtasks.guard import Intent

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.adapter.workspace import Workspace
    from dbtasks.grants import Grant
    from dbtasks.migrations.graph import Revision
    from dbtasks.migrations.version_table import VersionTable


@dataclass(frozen=True)
class Step:
    """One revision applied or undone, reported inside its transaction, before the commit."""

    revision: Revision
    upgrade: bool
    seconds: float
    connection: Any  # the revision's connection, inside its transaction


StepCallback = Callable[[Step], None]


class MigrationFailed(DbTasksError):
    """A revision raised; the ones before it stay applied, it is rolled back."""

    revision: Revision | None = None  # the one that failed, when known
    seconds: float = 0.0  # how long it ran
    reason: str | None = None  # the error alone, for a report that names the revision itself


class Interrupted(MigrationFailed):
    """Ctrl-C: the running statement was cancelled and its revision rolled back."""

    exit_code = ExitCode.INTERRUPTED


def migrate(
    ws: Workspace,
    connection: Connection,
    target: str,
    plan: list[Revision],
    on_step: StepCallback,
    grant: Grant,
    upgrade: bool = True,
    only: bool = False,
) -> None:
    """Upgrade (or downgrade) to `target`, calling `on_step` after each revision. With
    `only`, run exactly the revisions of `plan`, in its order (one step of a round trip).
    Revisions run DDL: MIGRATE (DESTROY, to undo them) on the connection's database."""
    grant.require(Intent.MIGRATE if upgrade else Intent.DESTROY, connection)
    done: list[str] = []
    clock = [time.perf_counter()]

    def step(**kw: Any) -> None:
        # MigrationInfo.up_revision_id names the revision in both directions.
        now = time.perf_counter()
        revision = ws.graph.get(kw["step"].up_revision_id)
        try:
            on_step(Step(revision, upgrade, now - clock[0], kw["ctx"].connection))
        except DbTasksError:
            raise
        except Exception as exc:  # our own bookkeeping failed: the revision is not to blame
            raise DbTasksError(
                f"recording revision {revision.id} failed: {first_line(exc)}; it was rolled back"
            ) from exc
        done.append(revision.id)
        clock[0] = time.perf_counter()

    ws.config.attributes[CONNECTION_KEY] = connection
    ws.config.attributes[GRANT_KEY] = grant
    pg.interrupted.clear()
    try:
        _run(ws, target, step, upgrade, clock, [r.id for r in plan] if only else None)
    except KeyboardInterrupt:
        raise _timed(_interrupted(ws, plan, done, upgrade), plan, done, clock) from None
    except Exception as exc:
        if pg.interrupted.is_set():
            raise _timed(_interrupted(ws, plan, done, upgrade), plan, done, clock) from None
        stop = pg.stopped()
        if isinstance(stop, DbTasksError):  # the guardian (the lock) cancelled the statement
            raise _timed(_stopped(ws, stop, plan, done), plan, done, clock) from None
        if isinstance(exc, DbTasksError) and not isinstance(exc, MigrationFailed):
            raise _timed(exc, plan, done, clock) from None
        failure = _failure(ws, _failing(plan, done), len(done), exc, upgrade)
        raise _timed(failure, plan, done, clock) from exc
    finally:
        ws.config.attributes.pop(CONNECTION_KEY, None)
        ws.config.attributes.pop(GRANT_KEY, None)


def _run(
    ws: Workspace,
    target: str,
    step: Callable[..., None],
    upgrade: bool,
    clock: list[float],
    only: list[str] | None = None,
) -> None:
    from alembic.runtime.environment import EnvironmentContext

    script = ws.script

    def steps(current: Any, context: Any) -> list[Any]:
        walked: list[Any]
        with resolving(ws.files):
            if only is not None:
                walked = [script.revision_map.get_revision(rev) for rev in only]
            elif upgrade:
                walked = list(script.iterate_revisions(target, current, implicit_base=True))[::-1]
            else:
                walked = list(script.iterate_revisions(current, target, select_for_downgrade=True))
        clock[0] = time.perf_counter()
        return migration_steps(script, walked, upgrade)

    env = EnvironmentContext(ws.config, script, fn=steps, destination_rev=target)
    configure = env.configure

    def driven(*args: Any, **kw: Any) -> None:
        log.attach()  # an env.py's fileConfig() disables the loggers it does not name
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


def _timed(exc: DbTasksError, plan: list[Revision], done: list[str], clock: list[float]) -> Any:
    """Attach the failing revision and its running time, for the timing history."""
    exc.revision = _failing(plan, done)  # type: ignore[attr-defined]
    exc.seconds = time.perf_counter() - clock[0]  # type: ignore[attr-defined]
    return exc


def _failing(plan: list[Revision], done: list[str]) -> Revision | None:
    return next((r for r in plan if r.id not in done), None)


def _stopped(
    ws: Workspace, stop: DbTasksError, plan: list[Revision], done: list[str]
) -> DbTasksError:
    """The guardian's error, naming the revision it cancelled (not blaming its file)."""
    failing = _failing(plan, done)
    if failing is None:
        return stop
    where = f"revision {failing.id} ({ws.relpath(failing.path)})"
    return type(stop)(f"{stop.message}; {where} was cancelled and rolled back", stop.hint)


def _interrupted(
    ws: Workspace, plan: list[Revision], done: list[str], upgrade: bool
) -> Interrupted:
    failing = _failing(plan, done)
    verb = "applied" if upgrade else "undone"
    kept = f"{len(done)} revision(s) before it stay {verb}"
    if failing is None:
        return Interrupted(f"interrupted: {len(done)} revision(s) {verb}")
    return Interrupted(
        f"interrupted: revision {failing.id} ({ws.relpath(failing.path)}) was cancelled and "
        f"rolled back; {kept}",
        f"run `inv db.{'upgrade' if upgrade else 'downgrade'}` again to continue",
    )


# SQLSTATEs of a server that lacks (or already has) what a revision expects: the
# revision file may well be right, the database is not what it was written for.
_SERVER_STATE = {"42710", "42P06", "42P07", "42704", "3F000", "0A000", "58P01", "42501"}


def _failure(
    ws: Workspace, failing: Revision | None, done: int, exc: Exception, upgrade: bool
) -> DbTasksError:
    from dbtasks import baseline

    reason = error_reason(exc)
    env = env_at_fault(ws, exc)
    if env is not None:
        return ConfigError(
            f"{env}: {reason}", "fix env.py, or hand it over to dbtasks' runtime (docs/adopting.md)"
        )
    if failing is None:
        return MigrationFailed(f"migration failed: {reason}")
    verb = "upgrade" if upgrade else "downgrade"
    kept = (
        f"{done} earlier revision(s) stayed applied"
        if upgrade
        else f"{done} revision(s) were undone before it"
    )
    if _connection_lost(exc):
        return MigrationFailed(
            f"the connection to the database was lost while revision {failing.id} ran; it "
            f"was not applied, {kept}",
            f"check that the server runs (`inv stack.up`), then run `inv db.{verb}` again",
        )
    what = (
        f"{verb} of revision {failing.id} ({ws.relpath(failing.path)}) failed and was rolled back"
    )
    blamed = baseline.blame(ws.settings, exc)
    if blamed is not None:
        failure = MigrationFailed(f"{what}: {reason}; {kept}", blamed)
    elif _pgcode(exc) in _SERVER_STATE:
        failure = MigrationFailed(
            f"{what}: {reason}; {kept}",
            "the database lacks (or already has) what the revision expects: check its "
            f"extensions, roles and schemas, then run `inv db.{verb}` again",
        )
    else:
        failure = MigrationFailed(
            f"{what}: {reason}; {kept}",
            f"fix {Path(failing.path).name} and run `inv db.{verb}` again",
        )
    failure.reason = reason
    return failure


def _pgcode(exc: BaseException) -> str | None:
    code = getattr(getattr(exc, "orig", None) or exc, "pgcode", None)
    return str(code) if code else None


def env_at_fault(ws: Workspace, exc: BaseException) -> str | None:
    """'env.py line N' when the error comes from env.py itself, not from a revision it ran."""
    import traceback

    env = (ws.script_dir / "env.py").resolve()
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == env:
        return f"{ws.relpath(env)} line {exc.lineno}"
    ours = [f for f in frames if Path(f.filename).resolve() == env]
    theirs = [f for f in frames if ws.files.is_revision_file(f.filename)]
    if not ours or theirs:
        return None
    return f"{ws.relpath(env)} line {ours[-1].lineno}"


def _connection_lost(exc: Exception) -> bool:
    """The server went away (a crash, a restart, a killed backend), not the revision."""
    if getattr(exc, "connection_invalidated", False):
        return True
    text = str(getattr(exc, "orig", None) or exc)
    return any(
        needle in text
        for needle in (
            "server closed the connection",
            "connection already closed",
            "terminating connection",
        )
    )


def error_reason(exc: Exception) -> str:
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(original or exc).__name__}: {first}"


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
