"""Where library exceptions become exit codes: the only place that does.

Every message leaves through `target.redact` with the configured password, as defence in
depth: messages are built without secrets, but none may ever get through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from invoke.exceptions import Exit

from dbtasks.console import Console
from dbtasks.errors import DbTasksError, ExitCode, StackError
from dbtasks.settings import Settings, load_settings
from dbtasks.target import redact


@dataclass
class Run:
    """What one command works with: its settings, built once, and its console."""

    console: Console
    flags: dict[str, Any]
    _settings: Settings | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.flags)
            self.console.secrets = [self._settings.endpoint.password]
            for warning in self._settings.warnings:
                self.console.warn(warning)
        return self._settings


@contextmanager
def command(json_mode: bool = False, **flags: Any) -> Iterator[Run]:
    """Run a task body; turn errors and Ctrl-C into a one-line message and an exit code."""
    run = Run(Console(json_mode=json_mode), flags)
    try:
        yield run
    except DbTasksError as exc:
        raise _exit(run, exc.render(), exc.exit_code) from None
    except KeyboardInterrupt:
        raise Exit("interrupted", int(ExitCode.INTERRUPTED)) from None
    except Exception as exc:
        if not _from_driver(exc):
            raise
        # The database refused a statement, or the connection died mid-command: the
        # driver's words, on one line.
        error = StackError(f"the database reported an error: {_first_line(exc)}")
        raise _exit(run, error.render(), error.exit_code) from None


def _exit(run: Run, message: str, code: int) -> Exit:
    return Exit(redact(f"error: {message}", run.console.secrets), int(code))


def _from_driver(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in ("psycopg2", "sqlalchemy")


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__
