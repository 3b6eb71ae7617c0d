"""Where library exceptions become exit codes: the only place that does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from invoke.exceptions import Exit

from dbtasks.console import Console
from dbtasks.errors import DbTasksError, ExitCode
from dbtasks.settings import Settings, load_settings
from dbtasks.urls import MASK


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
        return self._settings


@contextmanager
def command(json_mode: bool = False, **flags: Any) -> Iterator[Run]:
    """Run a task body; turn DbTasksError and Ctrl-C into a one-line message and exit code."""
    run = Run(Console(json_mode=json_mode), flags)
    try:
        yield run
    except DbTasksError as exc:
        raise Exit(_scrub(f"error: {exc.render()}", run), int(exc.exit_code)) from None
    except KeyboardInterrupt:
        raise Exit("interrupted", int(ExitCode.INTERRUPTED)) from None


def _scrub(text: str, run: Run) -> str:
    """Defence in depth: messages are built without secrets, but never let one through."""
    settings = run._settings
    if settings is None:
        return text
    password = settings.endpoint.password
    # Short passwords, and those that are words of the masked URL itself (the default
    # "postgres"), would garble every message if replaced.
    if len(password) < 8 or password in settings.masked_url:
        return text
    for form in {password, quote(password, safe="")}:
        text = text.replace(form, MASK)
    return text
