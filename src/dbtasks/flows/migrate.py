"""The flows that move a database along its history: upgrade, downgrade and stamp.

Each is a `Flow` (see `dbtasks.workflow`): plan from the current revisions, show, ask
where it destroys, then act under the migration lock. Revisions run one transaction each;
before each commits, the lock is checked and its timing row is written in the same
transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks import log
from dbtasks.guard import Intent
from dbtasks.migrations import status
from dbtasks.workflow import Flow, Work

if TYPE_CHECKING:
    from dbtasks.adapter.run import Step
    from dbtasks.console import Console
    from dbtasks.migrations.checksums import Checksums
    from dbtasks.migrations.graph import Revision
    from dbtasks.migrations.lock import Held
    from dbtasks.migrations.status import MigrationStatus


logger = logging.getLogger("dbtasks.migrate")


@dataclass(frozen=True)
class Move:
    """A plan: from `current`, the revisions to apply (or undo) to reach `target`."""

    current: tuple[str, ...]
    target: str
    revisions: tuple[Revision, ...]


def show_revisions(console: Console, title: str, revisions: tuple[Revision, ...]) -> None:
    console.line(f"{title}:")
    console.table(("revision", "message"), [(r.id, r.message) for r in revisions])


def final_status(work: Work) -> MigrationStatus:
    return status.compute(work.settings, work.graph, work.current())


class Upgrade(Flow[Move, "MigrationStatus"]):
    intent = Intent.MIGRATE
    action = "migrate"

    def __init__(self, target: str = "heads") -> None:
        self.target = target

    def plan(self, work: Work) -> Move:
        current = work.current()
        if not current:
            from dbtasks.migrations.version_table import check_unversioned, stranger_note

            check_unversioned(work.cur, work.settings, work.version)
            note = stranger_note(work.cur, work.settings)
            if note:
                work.console.warn(f"{note}; building {work.settings.schema!r} from nothing")
        # The everyday case, answered from the graph (cached: without importing Alembic):
        # every revision no head has yet, parents first. Alembic's own walk of a long
        # history costs tens of milliseconds each time it is asked.
        to_every_head = self.target == "heads" or (
            self.target == "head" and len(work.graph.heads) == 1
        )
        if to_every_head:
            return Move(current, self.target, tuple(work.graph.pending(current)))
        from dbtasks.adapter.plan import upgrade_plan

        return Move(current, self.target, tuple(upgrade_plan(work.ws, current, self.target)))

    def show(self, work: Work, plan: Move) -> bool:
        if not plan.revisions:
            where = ", ".join(plan.current) or "base"
            head = "head " if self.target in ("head", "heads") else ""
            work.console.ok(f"already at {head}{where}: nothing to apply")
            return False
        work.console.line(f"current: {', '.join(plan.current) or '(none)'}")
        show_revisions(work.console, f"{len(plan.revisions)} pending", plan.revisions)
        heads = work.graph.heads
        if len(heads) > 1 and self.target == "heads":
            work.console.warn(
                f"the history has {len(heads)} heads ({', '.join(heads)}): this applies every "
                "one of them; `inv db.merge` joins them into one"
            )
        return True

    def act(self, work: Work, plan: Move, held: Held | None) -> MigrationStatus:
        if not plan.revisions:
            work.console.ok("another run applied them while this one waited: nothing left")
        else:
            run(work, plan, held, upgrade=True)
        return final_status(work)

    def idle(self, work: Work, plan: Move) -> MigrationStatus:
        return status.compute(work.settings, work.graph, plan.current)


class Downgrade(Flow[Move, "MigrationStatus | None"]):
    intent = Intent.DESTROY
    action = "undo revisions"

    def __init__(self, target: str) -> None:
        self.target = target.strip()

    def plan(self, work: Work) -> Move:
        from dbtasks.adapter.plan import downgrade_plan

        current = work.current()
        return Move(current, self.target, tuple(downgrade_plan(work.ws, current, self.target)))

    def show(self, work: Work, plan: Move) -> bool:
        if not plan.revisions:
            work.console.ok(f"already at {', '.join(plan.current) or 'base'}: nothing to undo")
            return False
        show_revisions(work.console, f"{len(plan.revisions)} to undo", plan.revisions)
        return True

    def consent(self, work: Work, plan: Move) -> str:
        return f"undo {len(plan.revisions)} revision(s) on {work.settings.masked_url}"

    def act(self, work: Work, plan: Move, held: Held | None) -> MigrationStatus:
        run(work, plan, held, upgrade=False)
        return final_status(work)

    def idle(self, work: Work, plan: Move) -> None:
        return None


def run(work: Work, plan: Move, held: Held | None, upgrade: bool) -> None:
    """Run the plan with progress; each revision checks the lock and records its time."""
    from dbtasks import pg
    from dbtasks.adapter.run import MigrationFailed, migrate
    from dbtasks.migrations import journal
    from dbtasks.migrations.checksums import Checksums

    settings, console = work.settings, work.console
    journal.ensure(work.cur, settings.schema, work.grant)
    sums, rows = Checksums(settings.project_root), journal.Rows(settings.schema)
    where = work.locations
    labels = [f"{r.id} {r.message}".rstrip() for r in plan.revisions]
    verbs = ("applied", "applying") if upgrade else ("undone", "undoing")
    timings: list[tuple[float, Revision]] = []
    with console.progress(labels, *verbs) as finished:

        def values(step: Step) -> dict[str, object]:
            path = step.revision.path
            return _row(step, sums.of(path, where.sha(Path(path)) if path else None))

        def on_step(step: Step) -> None:
            if held is not None:
                held.check()
            if not step.recorded:  # else its row rode with its version row's move
                with pg.driver_cursor(step.connection) as cur:
                    rows.write(cur, values(step))
            _log_step(step)
            timings.append((step.seconds, step.revision))
            finished(step.seconds)

        def row(step: Step) -> tuple[str, tuple[object, ...]]:
            with pg.driver_cursor(step.connection) as cur:
                return rows.statement(cur, values(step))

        # The lock is watched while statements run: its loss cancels the running one.
        try:
            with pg.watching(held.check if held is not None else None):
                migrate(
                    work.ws, work.conn, plan.target, list(plan.revisions), on_step,
                    work.grant, upgrade, rows=row,
                )  # fmt: skip
        except MigrationFailed as exc:
            _record_failure(work, exc, upgrade, sums)
            raise
        finally:
            sums.save()
    _report_slow(console, timings, settings.slow_revision)


def _row(step: Step, checksum: str | None) -> dict[str, object]:
    """The revision's row, written in the revision's own transaction (on the driver's
    cursor of that transaction: SQLAlchemy's statement machinery would add a millisecond
    per revision)."""
    from dbtasks.migrations import journal

    started = datetime.now(UTC) - timedelta(seconds=step.seconds)
    outcome = "applied" if step.upgrade else "undone"
    return journal.row(step.revision.id, step.upgrade, started, step.seconds, outcome, checksum)


def _log_step(step: Step) -> None:
    verb = "applied" if step.upgrade else "undone"
    log.event(
        logger,
        f"revision.{verb}",
        f"{verb} {step.revision.id} {step.revision.message}",
        revision=step.revision.id,
        file=step.revision.path,
        duration_ms=round(step.seconds * 1000, 3),
    )


def _record_failure(work: Work, exc: Exception, upgrade: bool, sums: Checksums) -> None:
    from dbtasks.migrations import journal

    revision = getattr(exc, "revision", None)
    if revision is None:
        return
    log.event(
        logger,
        "revision.failed",
        f"{revision.id} failed and was rolled back",
        logging.ERROR,
        revision=revision.id,
        file=revision.path,
        duration_ms=round(float(getattr(exc, "seconds", 0.0)) * 1000, 3),
    )
    seconds = float(getattr(exc, "seconds", 0.0))
    started = datetime.now(UTC) - timedelta(seconds=seconds)
    checksum = sums.of(revision.path)
    values = journal.row(revision.id, upgrade, started, seconds, "failed", checksum)
    try:
        journal.record(work.cur, work.settings.schema, values, work.grant)
    except Exception:  # the server may be gone: the error itself is what the user needs
        log.event(logger, "journal.unrecorded", f"could not record {revision.id}'s failure")


def _report_slow(console: Console, timings: list[tuple[float, Revision]], limit: float) -> None:
    for seconds, revision in timings:
        if seconds > limit:
            console.warn(
                f"revision {revision.id} took {seconds:.1f}s (DB_SLOW_REVISION={limit:g}s)"
            )
    if len(timings) > 1:
        seconds, revision = max(timings, key=lambda t: t[0])
        console.line(f"slowest: {revision.id} {revision.message} ({seconds:.2f}s)")


@dataclass(frozen=True)
class StampPlan:
    current: tuple[str, ...]
    target: str
    after: tuple[str, ...]  # the version table's rows once stamped


class Stamp(Flow[StampPlan, "MigrationStatus | None"]):
    """Move the version table without running any revision."""

    intent = Intent.DESTROY
    action = "stamp the version table"

    def __init__(self, target: str, purge: bool = False) -> None:
        self.target = target.strip()
        self.purge = purge

    def plan(self, work: Work) -> StampPlan:
        from dbtasks.adapter.plan import stamp_heads

        current = work.current(check=not self.purge)
        return StampPlan(current, self.target, stamp_heads(work.ws, current, self.target))

    def show(self, work: Work, plan: StampPlan) -> bool:
        before = ", ".join(plan.current) or "base"
        after = ", ".join(plan.after) or "base"
        if set(plan.current) == set(plan.after) and not self.purge:
            work.console.ok(f"already at {after}: nothing to stamp")
            return False
        work.console.line(f"version table: {before} → {after} (no revision runs)")
        return True

    def consent(self, work: Work, plan: StampPlan) -> str:
        after = ", ".join(plan.after) or "base"
        return (
            f"set the version table of {work.settings.masked_url} to {after} without running "
            "any revision (later upgrades may skip or repeat work)"
        )

    def act(self, work: Work, plan: StampPlan, held: Held | None) -> MigrationStatus:
        from dbtasks.adapter.run import stamp

        stamp(work.ws, work.conn, self.target, self.purge, work.grant)
        return final_status(work)

    def idle(self, work: Work, plan: StampPlan) -> None:
        return None
