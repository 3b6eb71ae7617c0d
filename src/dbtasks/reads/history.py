"""Where the database stands and what the history holds: status, history, heads, one
revision, and the timings dbtasks recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.migrations import status as migration_status

if TYPE_CHECKING:
    from dbtasks.migrations.graph import Revision
    from dbtasks.migrations.journal import Entry
    from dbtasks.migrations.status import MigrationStatus
    from dbtasks.workflow import Work


def status(work: Work) -> MigrationStatus:
    from dbtasks.migrations import journal
    from dbtasks.migrations.version_table import stranger_note

    current = work.current(check=False)
    report = migration_status.compute(work.settings, work.graph, current)
    note = stranger_note(work.cur, work.settings) if not current else None
    report.notes = [note] if note else []
    entries = journal.read(work.cur, work.settings.schema)
    shas = work.locations.shas
    report.edited = [e.revision for e in _edited(work, entries, current, shas)]
    if work.stack.capabilities.snapshots:
        from dbtasks import snapshot

        report.snapshot = snapshot.state(work.cur, work.settings, work.locations)
    return report


def _edited(
    work: Work, entries: list[Entry], current: tuple[str, ...], shas: dict[str, str]
) -> list[Entry]:
    """Applied revisions whose file changed since, but for a squash point applied from
    the file its baseline replaced (read only when there is a suspect: it imports them)."""
    from dbtasks.migrations import journal

    found = journal.edited(work.graph, entries, current, shas)
    if not found:
        return found
    from dbtasks.squash.frozen import applied_before_squash

    return [e for e in found if not applied_before_squash(work.ws, e)]


@dataclass(frozen=True)
class HistoryRow:
    revision: Revision
    state: str  # "current", "applied", "pending", or "unknown" without a database

    def as_dict(self) -> dict[str, Any]:
        return {**self.revision.as_dict(), "state": self.state}


def history(work: Work, rng: str | None = None) -> list[HistoryRow]:
    """Every revision (or those in LOWER:UPPER), newest first; the history is the files',
    and the database, when it answers, only marks what is applied."""
    current = work.current_if_answering(check=True)
    done = work.graph.ancestors(current or ())
    if rng:
        from dbtasks.adapter.plan import history as in_range

        revisions = in_range(work.ws, rng)
    else:
        revisions = list(work.graph.walk())
    return [HistoryRow(r, _state(r.id, current, done)) for r in revisions]


def _state(rev: str, current: tuple[str, ...] | None, done: set[str]) -> str:
    if current is None:
        return "unknown"
    return "current" if rev in current else "applied" if rev in done else "pending"


def timings(work: Work) -> list[Entry]:
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


def heads(work: Work) -> list[Described]:
    current = work.current_if_answering()
    return [_describe(work, work.graph.get(h), current) for h in work.graph.heads]


def show(work: Work, spec: str) -> Described:
    from dbtasks.adapter.plan import resolve

    revision = resolve(work.ws, spec.strip())
    return _describe(work, revision, work.current_if_answering())
