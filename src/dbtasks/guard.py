"""Safety guards, all in one place: nothing changes the wrong database or without consent.

Every command declares an `Intent`; `check` applies the target rules for it, in order:

1. the transaction pooler never carries schema or data changes (it shares sessions, so
   locks and multi-statement DDL are unsafe);
2. `template0`/`template1` are never the target of a change (bad input, exit 2);
3. a database marked production (`DB_ENV=production`) is never written or destroyed, even
   on a loopback host (an SSH tunnel makes a remote database look local);
4. hosted Supabase hosts are never written or destroyed;
5. any other host that is not this machine needs `--allow-remote`.

Destructive intents then need consent: `--yes`, or a "y" at a terminal prompt. The target
classified is the endpoint libpq connects to (see `dbtasks.target`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from dbtasks import log, supabase
from dbtasks.errors import ConfigError, DbTasksError, Refused

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.settings import Settings

TEMPLATE_DATABASES = ("template0", "template1")
logger = logging.getLogger("dbtasks.guard")


class Intent(Enum):
    """What a command does to its target; the guard's rules depend on nothing else."""

    READ = "read"  # status, history, health: nothing changes
    MIGRATE = "migrate"  # upgrade, init, revision: the schema moves forward
    WRITE = "write"  # seed: rows are added
    DESTROY = "destroy"  # reset, downgrade, stamp, destroy: data or history is lost

    @property
    def changes(self) -> bool:
        return self is not Intent.READ

    @property
    def owns_target(self) -> bool:
        """Only databases that are ours to lose: local, not production, not hosted."""
        return self in (Intent.WRITE, Intent.DESTROY)


def is_hosted_supabase(host: str, port: int) -> bool:
    return supabase.is_hosted(host) or supabase.is_transaction_pooler(host, port)


def check(settings: Settings, intent: Intent, action: str, allow_remote: bool = False) -> None:
    """Refuse (exit 4, or 2 for a template database) to `action` on the wrong target."""
    if not intent.changes:
        return
    try:
        _check_pooler(settings, action)
        _check_template(settings, action)
        if intent.owns_target:
            _check_owned(settings, action, allow_remote)
    except DbTasksError as exc:
        log.event(logger, "guard.refused", exc.message, logging.WARNING, intent=intent.value)
        raise
    log.event(logger, "guard.allowed", f"allowed to {action}", intent=intent.value)


def _check_pooler(settings: Settings, action: str) -> None:
    ep = settings.endpoint
    if supabase.is_transaction_pooler(ep.host, ep.port):
        raise Refused(
            f"refusing to {action} through the transaction pooler ({settings.masked_url}): it "
            "shares sessions between clients, so locks and multi-statement DDL are unsafe",
            "use the direct connection (db.<project-ref>.supabase.co:5432) or the session "
            "pooler (the same pooler host on port 5432); see docs/supabase.md",
        )


def _check_template(settings: Settings, action: str) -> None:
    if settings.endpoint.database in TEMPLATE_DATABASES:
        raise ConfigError(
            f"refusing to {action} on {settings.endpoint.database}: every new database is "
            "copied from it",
            "set DB_NAME to your application's database",
        )


def _check_owned(settings: Settings, action: str, allow_remote: bool) -> None:
    where = settings.masked_url
    if settings.is_production:
        raise Refused(
            f"refusing to {action}: DB_ENV={settings.environment} marks {where} as production",
            "destructive commands never run against production",
        )
    ep = settings.endpoint
    if is_hosted_supabase(ep.host, ep.port):
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
        log.event(logger, "guard.confirmed", f"--yes: {action}")
        return
    if not (sys.stdin.isatty() if interactive is None else interactive):
        log.event(logger, "guard.refused", f"no --yes to {action}", logging.WARNING)
        raise Refused(
            f"refusing to {action} without --yes (stdin is not a terminal)", "re-run with --yes"
        )
    console.line(f"This will {action}.", style="bold yellow")
    try:
        answer = ask("Continue? [y/N] ")
    except EOFError:  # Ctrl-D at the prompt is a "no"
        answer = ""
        console.line()
    if answer.strip().lower() not in ("y", "yes"):
        log.event(logger, "guard.cancelled", f"cancelled: did not {action}", logging.WARNING)
        raise Refused(f"cancelled: did not {action}")
    log.event(logger, "guard.confirmed", f"confirmed: {action}")


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
    """The whole guard of a destructive command: target rules first, then consent."""
    check(settings, Intent.DESTROY, action, allow_remote)
    confirm(console, action, yes, ask, interactive)
