"""The one exception tree of dbtasks.

Library code raises these; only the task boundary (`dbtasks.tasks._boundary`) turns them
into an exit code. Each message is one line saying what happened, and `hint` says what to
do next.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit-code contract, mirrored by the table in the README."""

    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    CHECK_FAILED = 3
    REFUSED = 4
    INTERRUPTED = 130


class DbTasksError(Exception):
    """Base class: the operation failed."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """The one line shown to the user."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(DbTasksError):
    """A setting or an argument is invalid."""

    exit_code = ExitCode.BAD_INPUT


class StackError(DbTasksError):
    """The database stack could not be started, stopped or inspected."""


class HealthError(StackError):
    """The database did not answer a real query; `reason` says why."""

    def __init__(self, message: str, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.reason = reason


class CheckFailed(DbTasksError):
    """A check ran and found a problem (used by CI gates)."""

    exit_code = ExitCode.CHECK_FAILED


class Refused(DbTasksError):
    """A safety guard refused to act."""

    exit_code = ExitCode.REFUSED


def first_line(error: BaseException) -> str:
    """The first line of an error's words (the driver's own, under SQLAlchemy's wrapper),
    or its kind when it has none: messages are one line."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def last_line(text: str, default: str = "no output") -> str:
    """The last non-empty line of a program's output: where tools say what went wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else default
