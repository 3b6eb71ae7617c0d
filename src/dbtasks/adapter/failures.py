"""What a failed run says: which revision, why, and what to do next.

A revision's own error blames its file; a server that lacks what the revision expects,
a lost connection, an env.py that fails by itself, Ctrl-C and a lost lock each say so
instead, with the command that continues.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks.errors import ConfigError, DbTasksError, ExitCode

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.migrations.graph import Revision


class MigrationFailed(DbTasksError):
    """A revision raised; the ones before it stay applied, it is rolled back."""

    revision: Revision | None = None  # the one that failed, when known
    seconds: float = 0.0  # how long it ran
    reason: str | None = None  # the error alone, for a report that names the revision itself


class Interrupted(MigrationFailed):
    """Ctrl-C: the running statement was cancelled and its revision rolled back."""

    exit_code = ExitCode.INTERRUPTED


def first_pending(plan: list[Revision], done: list[str]) -> Revision | None:
    return next((r for r in plan if r.id not in done), None)


def stopped(
    ws: Workspace, stop: DbTasksError, plan: list[Revision], done: list[str]
) -> DbTasksError:
    """The guardian's error, naming the revision it cancelled (not blaming its file)."""
    failing = first_pending(plan, done)
    if failing is None:
        return stop
    where = f"revision {failing.id} ({ws.relpath(failing.path)})"
    return type(stop)(f"{stop.message}; {where} was cancelled and rolled back", stop.hint)


def interrupted(ws: Workspace, plan: list[Revision], done: list[str], upgrade: bool) -> Interrupted:
    failing = first_pending(plan, done)
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


def failure(
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
    env = (ws.script_dir / "env.py").resolve()
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == env:
        return f"{ws.relpath(env)} line {exc.lineno}"
    ours = [f for f in frames if Path(f.filename).resolve() == env]
    theirs = [f for f in frames if ws.files.is_revision_file(f.filename)]
    if not ours or theirs or any(_running_revisions(f) for f in frames):
        return None
    return f"{ws.relpath(env)} line {ours[-1].lineno}"


def _running_revisions(frame: traceback.FrameSummary) -> bool:
    """Alembic was running revisions: a failure then (a revision that broke the version
    table, say) belongs to the run, not to the env.py that started it."""
    return frame.name == "run_migrations" and Path(frame.filename).match(
        "alembic/runtime/migration.py"
    )


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
