"""The `db.*` flows as plain calls, the way the tasks run them (for in-process tests)."""

from __future__ import annotations

from typing import Any

from dbtasks.adapter.autogen import NewRevision
from dbtasks.console import Console
from dbtasks.migrations.apply import Downgrade, Stamp, Upgrade
from dbtasks.migrations.author import Autogenerate, Init, empty_revision, validate_message
from dbtasks.migrations.inspect import History, HistoryRow, OfflineSql, Status
from dbtasks.migrations.status import MigrationStatus
from dbtasks.settings import Settings
from dbtasks.workflow import execute


def init(settings: Settings, console: Console) -> MigrationStatus:
    return execute(Init(), settings, console)


def upgrade(
    settings: Settings, console: Console, target: str = "heads", sql: bool = False
) -> MigrationStatus | None:
    if sql:
        execute(OfflineSql(target), settings, console)
        return None
    return execute(Upgrade(target), settings, console)


def downgrade(
    settings: Settings,
    console: Console,
    spec: str,
    yes: bool,
    sql: bool = False,
    allow_remote: bool = False,
) -> MigrationStatus | None:
    if sql:
        execute(OfflineSql(spec, upgrade=False), settings, console)
        return None
    return execute(Downgrade(spec), settings, console, yes=yes, allow_remote=allow_remote)


def stamp(settings: Settings, console: Console, target: str, **kw: Any) -> Any:
    purge = kw.pop("purge", False)
    return execute(Stamp(target, purge), settings, console, **kw)


def revision(
    settings: Settings, console: Console, message: str, empty: bool = False
) -> NewRevision:
    text = validate_message(message)
    if empty:
        return empty_revision(settings, text)
    return execute(Autogenerate(text), settings, console)


def current_status(settings: Settings, console: Console) -> MigrationStatus:
    return execute(Status(), settings, console)


def history(settings: Settings, console: Console, rng: str | None) -> list[HistoryRow]:
    return execute(History(rng), settings, console)
