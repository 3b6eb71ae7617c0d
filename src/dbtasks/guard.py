"""Safety guards: nothing destructive happens to the wrong database or without consent.

Rules, in order: a database marked production (`DB_ENV=production`) is never touched, even
on a loopback host (an SSH tunnel makes a remote database look local); hosted Supabase
hosts and poolers are never touched; any other host that is not this machine needs
`--allow-remote`; then the user confirms on a terminal or passes `--yes`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from dbtasks import supabase
from dbtasks.errors import Refused

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.settings import Settings


def is_hosted_supabase(host: str, port: int) -> bool:
    return supabase.is_hosted(host) or supabase.is_pooler(host, port)


def check_target(settings: Settings, action: str, allow_remote: bool) -> None:
    """Refuse (exit 4) to `action` on a production, hosted or unflagged remote database."""
    where = settings.masked_url
    if settings.is_production:
        raise Refused(
            f"refusing to {action}: DB_ENV={settings.environment} marks {where} as production",
            "destructive commands never run against production",
        )
    endpoint = settings.endpoint
    if is_hosted_supabase(endpoint.host, endpoint.port):
        raise Refused(
            f"refusing to {action} on a hosted Supabase database ({where})",
            "destructive commands only run against databases you own locally",
        )
    if not settings.is_loopback and not allow_remote:
        raise Refused(
            f"refusing to {action} on {where}: it is not on this machine",
            "pass --allow-remote if that is really what you want",
        )


def confirm(
    console: Console,
    action: str,
    yes: bool,
    ask: Callable[[str], str] = input,
    interactive: bool | None = None,
) -> None:
    """Proceed with `--yes`; ask on a terminal (default No); otherwise refuse (exit 4)."""
    if yes:
        return
    if not (sys.stdin.isatty() if interactive is None else interactive):
        raise Refused(
            f"refusing to {action} without --yes (stdin is not a terminal)", "re-run with --yes"
        )
    console.line(f"This will {action}.", style="bold yellow")
    if ask("Continue? [y/N] ").strip().lower() not in ("y", "yes"):
        raise Refused(f"cancelled: did not {action}")


def authorize(
    settings: Settings,
    console: Console,
    action: str,
    *,
    yes: bool,
    allow_remote: bool = False,
    ask: Callable[[str], str] = input,
    interactive: bool | None = None,
) -> None:
    """The whole guard: target rules first, then consent."""
    check_target(settings, action, allow_remote)
    confirm(console, action, yes, ask, interactive)
