"""Safety guards, all in one place: nothing changes the wrong database or without consent.

Every command declares an `Intent`; `grant` applies the target rules for it, in order:

1. the transaction pooler never carries schema or data changes (it shares sessions, so
   locks and multi-statement DDL are unsafe);
2. `template0`/`template1` are never the target of a change (bad input, exit 2);
3. a database marked production (`DB_ENV=production`) is never written or destroyed, even
   on a loopback host (an SSH tunnel makes a remote database look local);
4. hosted Supabase hosts are never written or destroyed;
5. any other host that is not this machine needs `--allow-remote`.

Destructive intents then need consent: `--yes`, or a "y" at a terminal prompt. The target
classified is the endpoint libpq connects to (see `dbtasks.target`).

Effects ask for their grant. The rules are applied to effects, not to commands: every
primitive that changes something (create or drop a database or schema, run revisions,
load seeds, write the version table, delete a data directory, write a generated file)
takes a `Grant` that only this module issues, for one intent and one target, and refuses
(exit 4) what the grant does not cover, checked against the connection it is about to use.
A command that composes other commands' effects therefore gets no more than each of them
would: a flow granted MIGRATE cannot seed, a scratch build cannot create a database on a
server the rules refuse.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from dbtasks import log, supabase
from dbtasks.errors import ConfigError, DbTasksError, Refused
from dbtasks.pg import MAINTENANCE_DB

if TYPE_CHECKING:
    from pathlib import Path

    from dbtasks.console import Console
    from dbtasks.grants import FileGrant, Grant, ScratchSpace
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

    def covers(self, other: Intent) -> bool:
        """A grant for this intent allows `other`'s effects too: whoever may destroy may
        write, whoever may write may migrate (each passed stricter rules)."""
        order = list(Intent)
        return order.index(self) >= order.index(other)


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


def grant(
    settings: Settings,
    intent: Intent,
    action: str,
    allow_remote: bool = False,
    *,
    whole_server: bool = False,
    schemas: tuple[str, ...] | None = None,
) -> Grant:
    """The grant of a command: `intent` on the configured database (every database of the
    server with `whole_server`; only `schemas` of it, when given), once the rules pass."""
    from dbtasks.grants import Target, issue

    check(settings, intent, action, allow_remote)
    ep = settings.endpoint
    database = None if whole_server else ep.database
    return issue(intent, Target(ep.host, ep.port, database, schemas), action)


def refusal(
    settings: Settings, intent: Intent, action: str, allow_remote: bool = False
) -> str | None:
    """Why the rules refuse `intent` here (None: they allow it), without raising: for a
    command that skips an effect it may not have ("not seeding: ...")."""
    try:
        check(settings, intent, action, allow_remote)
    except DbTasksError as exc:
        return exc.message.removeprefix(f"refusing to {action}").lstrip(": ").strip()
    return None


def scratch_space(
    settings: Settings,
    action: str,
    allow_remote: bool = False,
    parent: Grant | None = None,
) -> ScratchSpace:
    """Scratch databases on the configured server (a snapshot, a test or validation
    database): the server must take writes under the rules of WRITE, checked here unless
    `parent`, a grant of WRITE or more on that server, already passed them. Their names
    are never the configured database, a template or the maintenance database."""
    from dbtasks.grants import issue_space

    ep = settings.endpoint
    passed = (
        parent is not None
        and parent.intent.covers(Intent.WRITE)
        and (parent.target.host, parent.target.port) == (ep.host, ep.port)
    )
    if not passed:
        check(settings, Intent.WRITE, action, allow_remote)
    reserved = (ep.database, MAINTENANCE_DB, *TEMPLATE_DATABASES)
    return issue_space(ep.host, ep.port, reserved, action)


def stack(settings: Settings, intent: Intent, action: str) -> Grant:
    """The stack's own lifecycle on every database of its server: starting it (a cluster,
    its baseline, the configured database) under MIGRATE's rules; destroying it under
    DESTROY's, whose consent the caller asks for."""
    return grant(settings, intent, action, whole_server=True)


def files(folders: tuple[Path, ...], action: str, hint: str | None = None) -> FileGrant:
    """Files dbtasks writes (revisions, a diagram) inside `folders` and nowhere else."""
    from dbtasks.grants import issue_files

    return issue_files(folders, action, hint)


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
        # The prompt goes where the console writes (the task's stdout is the project's
        # code's stderr while a task runs).
        with contextlib.redirect_stdout(console.out):
            answer = ask("Continue? [y/N] ")
    except EOFError:  # Ctrl-D at the prompt is a "no"
        answer = ""
        console.line()
    except KeyboardInterrupt:  # the error line starts on a line of its own
        console.line()
        raise
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
    whole_server: bool = False,
    ask: Callable[[str], str] = input,
    interactive: bool | None = None,
) -> Grant:
    """The whole guard of a destructive command: target rules first, then consent."""
    granted = grant(settings, Intent.DESTROY, action, allow_remote, whole_server=whole_server)
    confirm(console, action, yes, ask, interactive)
    return granted
