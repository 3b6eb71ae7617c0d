"""Time a revision's O(size) statements again on the clone, with generated rows.

After a revision was traced on empty tables, its downgrade is run for real, then the
revision again inside one transaction with `ROWS` generated rows in the tables its
heavy statements work on, each statement timed; that transaction is rolled back and the
revision applied once more. Each heavy statement then has two timings, empty and with
`ROWS` rows (and their heap bytes): `grade.predict` scales the difference to the
target's size. A downgrade that did not undo the revision shows as a statement that no
longer does the same work: that timing is not used. A revision whose downgrade is
missing, fails or ran outside a transaction is not timed again: fixed rates stand in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtasks.plan import downgrade as checks
from dbtasks.plan.grade import main_table, work_of

if TYPE_CHECKING:
    from dbtasks.migrations.graph import Revision
    from dbtasks.plan.clone import Clone
    from dbtasks.plan.model import RevisionPlan, Size
    from dbtasks.plan.tracer import Tracer
    from dbtasks.workflow import Work

ROWS = 20_000
MIN_ROWS = ROWS  # smaller tables take milliseconds whatever the rate
HEAVY = ("rewrite", "scan", "index build", "rows")


def statements(
    work: Work,
    made: Clone,
    tracer: Tracer,
    revision: Revision,
    entry: RevisionPlan,
    sizes: dict[str, Size],
) -> None:
    """Attach (empty seconds, seconds with rows, rows, heap bytes) to each heavy statement
    on a table the target holds `MIN_ROWS` rows or more of (below, the rates will do)."""
    from dbtasks.adapter.run import migrate

    heavy = [s for s in entry.statements if s.transactional and work_of(s) in HEAVY]
    heavy = [s for s in heavy if _rows(sizes, main_table(s)) >= MIN_ROWS]
    down = entry.downgrade
    if (
        not heavy
        or down is None
        or not down.ran
        or any(not s.transactional for s in down.statements)
    ):
        return
    tables = {t for s in heavy for t in s.tables()}
    grant, ws = made.scratch.grant, work.ws
    migrate(ws, made.connection, revision.id, [revision], lambda s: None, grant, False)
    probe = checks._Probe(tables, ROWS)
    error, _ = checks.run_checked(work, made, tracer, revision, probe, upgrade=True)
    migrate(ws, made.connection, revision.id, [revision], lambda s: None, grant, True)
    if error is not None or len(tracer.statements) != len(entry.statements):
        return
    for empty, full in zip(entry.statements, tracer.statements, strict=True):
        table = main_table(full)
        same = [f.kind for f in empty.facts] == [f.kind for f in full.facts]
        if empty in heavy and table in probe.sizes and empty.sql == full.sql and same:
            rows, heap = probe.sizes[table]
            empty.calibration = (empty.seconds, full.seconds, rows, heap)


def _rows(sizes: dict[str, Size], table: str | None) -> int:
    found = sizes.get(table) if table else None
    return found.rows if found else 0


def summary(planned: list[RevisionPlan]) -> dict[str, float]:
    """How many statements were timed with generated rows, and with how many rows."""
    timed = [s for r in planned for s in r.statements if s.calibration]
    return {"statements_timed": float(len(timed)), "rows": float(ROWS if timed else 0)}
