"""Read-only flows: status, history, heads, one revision. They change nothing: the stack
is probed, never started, and a missing database is reported, never created."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from dbtasks.adapter.errors import RevisionError
from dbtasks.guard import Intent
from dbtasks.migrations import status
from dbtasks.workflow import Flow, Work

if TYPE_CHECKING:
    from dbtasks.migrations.graph import Revision
    from dbtasks.migrations.journal import Entry
    from dbtasks.migrations.lock import Held

T = TypeVar("T")


class Read(Flow[T, T]):
    """A flow whose plan is its answer: nothing to show, ask or act on."""

    intent = Intent.READ
    action = "read"

    def show(self, work: Work, plan: T) -> bool:
        return False

    def idle(self, work: Work, plan: T) -> T:
        return plan

    def act(self, work: Work, plan: T, held: Held | None) -> T:
        raise AssertionError("read-only flows never act")


class Status(Read["status.MigrationStatus"]):
    def plan(self, work: Work) -> status.MigrationStatus:
        from dbtasks.migrations import journal
        from dbtasks.migrations.version_table import stranger_note

        current = work.current(check=False)
        report = status.compute(work.settings, work.graph, current)
        note = stranger_note(work.cur, work.settings) if not current else None
        report.notes = [note] if note else []
        entries = journal.read(work.cur, work.settings.schema)
        report.edited = [e.revision for e in journal.edited(work.graph, entries, current)]
        if work.stack.capabilities.snapshots:
            from dbtasks import snapshot

            report.snapshot = snapshot.state(work.settings, work.locations)
        return report


@dataclass(frozen=True)
class HistoryRow:
    revision: Revision
    state: str  # "current", "applied" or "pending"

    def as_dict(self) -> dict[str, Any]:
        return {**self.revision.as_dict(), "state": self.state}


class History(Read[list[HistoryRow]]):
    ready = False  # the history is the files': the database only marks what is applied

    def __init__(self, rng: str | None = None) -> None:
        self.rng = rng

    def plan(self, work: Work) -> list[HistoryRow]:
        current = work.current_if_answering(check=True)
        done = work.graph.ancestors(current or ())
        if self.rng:
            from dbtasks.adapter.plan import history

            revisions = history(work.ws, self.rng)
        else:
            revisions = list(work.graph.walk())
        return [HistoryRow(r, _state(r.id, current, done)) for r in revisions]


def _state(rev: str, current: tuple[str, ...] | None, done: set[str]) -> str:
    if current is None:
        return "unknown"
    return "current" if rev in current else "applied" if rev in done else "pending"


class Timings(Read[list["Entry"]]):
    def plan(self, work: Work) -> list[Entry]:
        from dbtasks.migrations import journal

        return journal.read(work.cur, work.settings.schema)


@dataclass(frozen=True)
class Described:
    """One revision as `db.show` and `db.heads` present it."""

    revision: Revision
    children: tuple[str, ...]
    state: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.revision.as_dict(), "children": list(self.children), "state": self.state}


def _describe(work: Work, revision: Revision, current: tuple[str, ...] | None) -> Described:
    done = work.graph.ancestors(current or ())
    return Described(revision, work.graph.children(revision.id), _state(revision.id, current, done))


class Heads(Read[list[Described]]):
    ready = False

    def plan(self, work: Work) -> list[Described]:
        current = work.current_if_answering()
        return [_describe(work, work.graph.get(h), current) for h in work.graph.heads]


class Show(Read[Described]):
    ready = False

    def __init__(self, spec: str) -> None:
        self.spec = spec.strip()

    def plan(self, work: Work) -> Described:
        from dbtasks.adapter.plan import resolve

        revision = resolve(work.ws, self.spec)
        return _describe(work, revision, work.current_if_answering())


class OfflineSql(Read[None]):
    """The SQL an upgrade, a downgrade or one revision would run, written to stdout."""

    def __init__(self, target: str, upgrade: bool = True, only: bool = False) -> None:
        self.target = target.strip()
        self.upgrade = upgrade
        self.only = only  # just this revision (db.show --sql)

    def plan(self, work: Work) -> None:
        from dbtasks.adapter.offline import offline_sql
        from dbtasks.adapter.plan import resolve

        if not self.only:
            current = work.current()
            if not self.upgrade:
                from dbtasks.adapter.plan import downgrade_plan

                if not downgrade_plan(work.ws, current, self.target):
                    return
            offline_sql(work.ws, current, self.target, self.upgrade)
            return
        revision = resolve(work.ws, self.target)
        if len(revision.down) > 1:
            from dbtasks.errors import ConfigError

            raise ConfigError(
                f"{revision.id} merges {len(revision.down)} revisions: its SQL has no single "
                "starting point",
                "show the SQL of the revisions it merges",
            )
        offline_sql(work.ws, revision.down, revision.id, upgrade=True)


@dataclass(frozen=True)
class Readiness:
    """What `db.health` checks beyond a real query: version, extensions, revision."""

    server_major: str
    expected_major: str | None
    missing_extensions: tuple[str, ...]
    at_head: bool | None  # None: the project has no Alembic history to compare with
    history_error: str | None = None  # why the history could not be read, if it could not

    @property
    def problems(self) -> list[str]:
        found = []
        if self.expected_major and self.server_major != self.expected_major:
            found.append(
                f"the server is PostgreSQL {self.server_major}, DB_SERVER_VERSION expects "
                f"{self.expected_major}"
            )
        if self.missing_extensions:
            found.append(f"required extensions missing: {', '.join(self.missing_extensions)}")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "server_major": self.server_major,
            "expected_major": self.expected_major,
            "missing_extensions": list(self.missing_extensions),
            "at_head": self.at_head,
            "history_error": self.history_error,
            "problems": self.problems,
        }


class Ready(Read[Readiness]):
    def __init__(self, server_version: str) -> None:
        self.server_version = server_version

    def plan(self, work: Work) -> Readiness:
        settings = work.settings
        work.cur.execute("SELECT extname FROM pg_extension")
        installed = {str(row[0]) for row in work.cur.fetchall()}
        missing = tuple(e for e in settings.extensions if e not in installed)
        at_head, unreadable = None, None
        from dbtasks.adapter import config_files

        if config_files.find(settings) is not None:
            try:
                at_head = set(work.current(check=False)) == set(work.graph.heads)
            except RevisionError as exc:  # a broken revision file is not an unhealthy server
                unreadable = exc.render()
        major = self.server_version.split(".")[0]
        return Readiness(major, settings.server_version, missing, at_head, unreadable)
