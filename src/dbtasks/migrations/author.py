"""Flows that write revision files: init's first migration, `db.revision`, `db.merge`."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbtasks.errors import ConfigError, DbTasksError
from dbtasks.guard import Intent
from dbtasks.migrations.apply import Move, Upgrade, final_status, run, show_revisions
from dbtasks.workflow import Flow, Work

if TYPE_CHECKING:
    from dbtasks.adapter.autogen import NewRevision
    from dbtasks.migrations.lock import Held
    from dbtasks.migrations.status import MigrationStatus
    from dbtasks.settings import Settings

MAX_MESSAGE = 100
INITIAL_MESSAGE = "initial schema"


def validate_message(message: str | None) -> str:
    """A message that makes a sane file name: non-empty, one line, bounded, with a word."""
    text = (message or "").strip()
    if not text:
        raise ConfigError("the revision message is empty", 'pass -m "what the change does"')
    if len(text) > MAX_MESSAGE:
        raise ConfigError(
            f"the revision message is {len(text)} characters long",
            f"keep it under {MAX_MESSAGE}; details belong in the file",
        )
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise ConfigError(
            "the revision message contains a line break or control character", "use one line"
        )
    if not re.search(r"\w", text):
        raise ConfigError(
            f"the revision message {text!r} has no letter or digit to name the file with"
        )
    return text


def require_metadata(settings: Settings, what: str) -> None:
    if not settings.metadata:
        raise ConfigError(
            f"{what} compares the models with the database, and no models are configured",
            'set DB_METADATA (or metadata = "package.models:Base.metadata" in [tool.dbtasks])',
        )


class Init(Flow[Move, "MigrationStatus"]):
    """A database never migrated: write the first migration if there is none, apply all."""

    intent = Intent.MIGRATE
    action = "initialize"

    def plan(self, work: Work) -> Move:
        from dbtasks.migrations.version_table import exists

        if exists(work.cur, work.settings.schema):
            current = ", ".join(work.current(check=False)) or "base"
            raise DbTasksError(f"already initialized at {current}", "use `inv db.upgrade`")
        if not len(work.graph):
            require_metadata(work.settings, "writing the initial migration")
        return Move((), "heads", tuple(work.graph.pending(())))

    def show(self, work: Work, plan: Move) -> bool:
        if plan.revisions:
            show_revisions(work.console, f"{len(plan.revisions)} pending", plan.revisions)
        else:
            work.console.step("no migrations yet: writing the first one from the models")
        return True

    def act(self, work: Work, plan: Move, held: Held | None) -> MigrationStatus:
        if not plan.revisions:
            self._write_initial(work)
            plan = Upgrade().plan(work)
        run(work, plan, held, upgrade=True)
        return final_status(work)

    def _write_initial(self, work: Work) -> None:
        from dbtasks.adapter.autogen import autogenerate
        from dbtasks.adapter.runtime import prepare_connection

        prepare_connection(work.conn, work.settings.schema)
        new = autogenerate(work.ws, work.conn, INITIAL_MESSAGE)
        if new.path is None:
            raise DbTasksError(
                "there are no migrations and the models define no tables",
                "add models, or check DB_METADATA",
            )
        work.console.ok(
            f"wrote the initial migration {new.path} ({len(new.operations)} operations)"
        )

    def idle(self, work: Work, plan: Move) -> MigrationStatus:
        raise AssertionError("init always acts")


@dataclass(frozen=True)
class AtHead:
    current: tuple[str, ...]


class Autogenerate(Flow[AtHead, "NewRevision"]):
    """Compare the models with a database at head; write a revision only if they differ."""

    intent = Intent.MIGRATE
    action = "autogenerate a revision"

    def __init__(self, message: str) -> None:
        self.message = message

    def plan(self, work: Work) -> AtHead:
        require_metadata(work.settings, "autogenerate")
        heads = work.graph.heads
        if len(heads) > 1:
            raise ConfigError(
                f"the revisions have {len(heads)} heads ({', '.join(heads)})",
                "merge them first with `inv db.merge`",
            )
        current = work.current()
        if set(current) != set(heads):
            raise DbTasksError(
                f"the database is at {', '.join(current) or 'base'}, not at "
                f"head {', '.join(heads)}",
                "run `inv db.upgrade` first",
            )
        return AtHead(current)

    def show(self, work: Work, plan: AtHead) -> bool:
        return True

    def act(self, work: Work, plan: AtHead, held: Held | None) -> NewRevision:
        from dbtasks.adapter.autogen import autogenerate

        return autogenerate(work.ws, work.conn, self.message)


def empty_revision(settings: Settings, message: str) -> NewRevision:
    """A revision to fill in by hand; needs no database."""
    from dbtasks.adapter.autogen import empty_revision as write
    from dbtasks.adapter.workspace import Workspace

    return write(Workspace.open(settings), message)


def merge(settings: Settings, message: str) -> NewRevision | None:
    """A merge revision joining every head; None when there is only one."""
    from dbtasks.adapter.autogen import merge as write
    from dbtasks.adapter.workspace import Workspace

    ws = Workspace.open(settings)
    if len(ws.graph.heads) < 2:
        return None
    return write(ws, message)
