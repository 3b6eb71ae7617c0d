"""One member's upgrade, in a worker process: the ordinary `db.upgrade` flow (guard,
lock, a transaction per revision, the timing row) on the member's settings.

Workers ignore Ctrl-C while idle and take it only while a member runs, so an interrupt
stops the running statements and every worker reports instead of printing a traceback.
"""

from __future__ import annotations

import io
import logging
import signal
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dbtasks import log
from dbtasks.errors import DbTasksError, first_line

if TYPE_CHECKING:
    from dbtasks.settings import Settings

logger = logging.getLogger("dbtasks.fleet")


@dataclass(frozen=True)
class Outcome:
    """What happened to one member; `current` is where it stands afterwards."""

    member: str
    state: str  # committed, at head, failed, interrupted
    current: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())


# What every member's upgrade imports: loaded once in the parent before the pool forks,
# so that N workers do not each spend the import's CPU (most of a small upgrade's).
PRELOAD = (
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql.psycopg2",
    "alembic.runtime.migration",
    "alembic.operations",
    "dbtasks.flows.migrate",
    "dbtasks.adapter.run",
    "dbtasks.adapter.workspace",
)


def preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


def idle() -> None:
    """The pool's initializer: an idle worker leaves Ctrl-C to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupt_once(signum: int, frame: object) -> None:
    """A member's Ctrl-C: the first one cancels its statement; any later one changes
    nothing. A terminal's Ctrl-C reaches a worker twice (from the terminal, and passed on
    by the parent): a second KeyboardInterrupt landing while the first sends its cancel
    would leave the statement running on the server."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def upgrade(name: str, settings: Settings, revision: str, before: tuple[str, ...]) -> Outcome:
    """Run `db.upgrade REVISION` on one member (at `before` when the run read it) and say
    what happened, never raising."""
    from dbtasks import pg

    started = time.perf_counter()
    pg.interrupted.clear()
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        outcome = _upgrade(name, settings, revision, before)
        if outcome.state == "failed" and pg.interrupted.is_set():
            # Ctrl-C cancelled the running statement, which then failed: say which.
            outcome = Outcome(name, "interrupted", outcome.current, error="interrupted")
    except KeyboardInterrupt:
        outcome = Outcome(name, "interrupted", _where(settings), error="interrupted")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _drop_spare()
    seconds = round(time.perf_counter() - started, 3)
    log.event(logger, "fleet.member", f"{name}: {outcome.state}", seconds=seconds)
    return Outcome(**{**outcome.__dict__, "seconds": seconds})


def _upgrade(name: str, settings: Settings, revision: str, before: tuple[str, ...]) -> Outcome:
    from dbtasks.console import Console
    from dbtasks.flows.migrate import Upgrade
    from dbtasks.target import redact
    from dbtasks.workflow import execute

    secrets = [settings.endpoint.password]
    console = Console(out=io.StringIO(), err=io.StringIO(), secrets=secrets)
    try:
        final = execute(Upgrade(revision), settings, console)
    except DbTasksError as exc:
        return Outcome(name, "failed", _where(settings), error=redact(exc.render(), secrets))
    except Exception as exc:  # the driver's words, or a revision's own error: one line
        log.event(logger, "fleet.error", first_line(exc), logging.ERROR, exc_info=exc)
        text = f"{type(exc).__name__}: {first_line(exc)}"
        return Outcome(name, "failed", _where(settings), error=redact(text, secrets))
    current = tuple(sorted(final.current))
    return Outcome(name, "committed" if current != before else "at head", current)


def _where(settings: Settings) -> tuple[str, ...]:
    """The member's current revisions, read on a connection of its own (empty when it
    cannot be read: the report says the member failed either way)."""
    from dbtasks import pg
    from dbtasks.migrations.version_table import configured, read_current

    try:
        conn = pg.connect(settings.endpoint, application="dbtasks fleet")
    except Exception:
        return ()
    try:
        conn.set_session(readonly=True, autocommit=True)
        with conn.cursor() as cur:
            return tuple(sorted(read_current(cur, configured(settings))))
    except Exception:
        return ()
    finally:
        conn.close()


def _drop_spare() -> None:
    import sys

    if (health := sys.modules.get("dbtasks.health")) is not None:
        health.discard_spare()
