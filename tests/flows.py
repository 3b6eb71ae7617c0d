"""The `db.*` flows and reads as plain calls, for in-process tests that look at what they
return (the CLI itself is driven through `tests.cli`, the real task functions)."""

from __future__ import annotations

from dbtasks.adapter.autogen import NewRevision
from dbtasks.console import Console
from dbtasks.flows.author import Autogenerate, Init, empty_revision, validate_message
from dbtasks.flows.migrate import Downgrade, Stamp, Upgrade
from dbtasks.migrations.status import MigrationStatus
from dbtasks.reads import history as reads
from dbtasks.settings import Settings
from dbtasks.workflow import execute, read


def init(settings: Settings, console: Console) -> MigrationStatus:
    return execute(Init(), settings, console)


def upgrade(settings: Settings, console: Console, target: str = "heads") -> MigrationStatus:
    return execute(Upgrade(target), settings, console)


def downgrade(
    settings: Settings, console: Console, spec: str, yes: bool, allow_remote: bool = False
) -> MigrationStatus | None:
    return execute(Downgrade(spec), settings, console, yes=yes, allow_remote=allow_remote)


def stamp(
    settings: Settings, console: Console, target: str, purge: bool = False, yes: bool = False
) -> MigrationStatus | None:
    return execute(Stamp(target, purge), settings, console, yes=yes)


def revision(
    settings: Settings, console: Console, message: str, empty: bool = False
) -> NewRevision:
    text = validate_message(message)
    if empty:
        return empty_revision(settings, text)
    return execute(Autogenerate(text), settings, console)


def current_status(settings: Settings, console: Console) -> MigrationStatus:
    return read(reads.status, settings, console)


def history(settings: Settings, console: Console, rng: str | None) -> list[reads.HistoryRow]:
    return read(lambda work: reads.history(work, rng), settings, console)
