"""Risk: lock mode by size by rewrite, and how long the work under the lock will take.

What a statement does under its lock is its work: metadata only, a scan (validating a
constraint, SET NOT NULL), an index build, a rewrite of the table and its indexes, or
rows changed. Only the last four grow with the table. Their duration on the target is
predicted from the statement itself, timed on the clone once with no rows and once with
generated rows (`calibrate`), scaled by the target's heap bytes (rows, for an index
build, times log n / log k: it sorts); without that, from fixed rates (`RATES`). Then:

- high: a lock that blocks writes (or reads) held for `HIGH_SECONDS` or more; a
  statement that fails on the target's rows; a revision that fails on the clone;
- medium: such a lock held for `MEDIUM_SECONDS` or more, or taken without lock_timeout
  (it queues behind any open transaction and everything queues behind it), or with
  `--live`, behind an open transaction that holds a lock on the table now;
- low: anything else a hint names; none: the rest.
A downgrade that loses data or cannot run makes a rollback plan (`--downgrade`) high.
"""

from __future__ import annotations

import math

from dbtasks.plan import hints as rules
from dbtasks.plan import locks as modes
from dbtasks.plan.model import Plan, RevisionPlan, Risk, Size, Traced

# Half a second of every query on the table waiting is an outage a user sees; a tenth of
# one is a hiccup in the latency graphs.
HIGH_SECONDS = 0.5
MEDIUM_SECONDS = 0.1
PAGE = 8192
# Used when a statement could not be timed with generated rows (bytes or rows per second).
RATES = {"rewrite": 40e6, "scan": 400e6, "index build": 1.0e6, "rows": 20e6}


def work_of(s: Traced) -> str:
    kinds = {f.kind for f in s.facts}
    flags = {flag for f in s.facts for flag in f.flags}
    if "rewrite" in kinds:
        return "rewrite"
    if "index" in kinds or (flags & {"u", "p", "x"} and "constraint" in kinds):
        return "index build"
    validated = any(
        f.kind == "constraint" and "not valid" not in f.flags and f.flags[:1] in (("c",), ("f",))
        for f in s.facts
    )
    if (
        validated
        or "validate" in kinds
        or any(f.kind == "not null" and "checked" not in f.flags for f in s.facts)
    ):
        return "scan"
    verb = s.sql.lstrip().split(" ", 1)[0].lower()
    if verb in ("update", "delete", "insert", "with") and any(
        lock.kind == "table" for lock in s.locks
    ):
        return "rows"
    return "metadata"


def main_table(s: Traced) -> str | None:
    heavy = [f.table for f in s.facts if f.kind != "column"] or s.tables()
    return heavy[0] if heavy else None


def predict(s: Traced, size: Size | None) -> float | None:
    """Seconds of the statement's work on the target's table."""
    if s.work == "metadata":
        return None
    if size is None:
        return None
    heap = size.pages * PAGE
    if s.calibration is not None:
        empty, full, rows, heap_bytes = s.calibration
        scale = size.rows / max(rows, 1) if s.work == "index build" else heap / max(heap_bytes, 1)
        if s.work == "index build":  # it sorts: n log n
            scale *= math.log(max(size.rows, 2)) / math.log(max(rows, 2))
        return max(empty, 0.0) + max(full - empty, 0.0) * scale
    amount = size.rows if s.work == "index build" else heap
    return amount / RATES[s.work]


def grade(plan: Plan) -> None:
    """Fill in every statement's work, prediction, hints and risk, and each revision's."""
    for revision in plan.revisions:
        ctx = rules.Context(plan.sizes, revision.statements)
        for s in revision.statements:
            s.work = work_of(s)
            table = main_table(s)
            s.predicted = predict(s, plan.sizes.get(table) if table else None)
            s.hints = rules.for_statement(s, ctx)
            s.risk = risk(s, plan, table)
        revision.risk = _revision_risk(revision, plan.direction)


def risk(s: Traced, plan: Plan, table: str | None) -> Risk:
    found = Risk.LOW if s.hints else Risk.NONE
    size = plan.sizes.get(table) if table else None
    if any(h.code == "not-null-column-without-default" for h in s.hints) and size and size.rows:
        return Risk.HIGH
    strongest = s.strongest
    seconds = s.predicted or 0.0
    if strongest is not None and modes.dangerous(strongest.mode):
        if seconds >= HIGH_SECONDS:
            return Risk.HIGH
        if seconds >= MEDIUM_SECONDS or any(h.code == "no-lock-timeout" for h in s.hints):
            found = max(found, Risk.MEDIUM)
        if _queued(plan, strongest.relation):
            found = max(found, Risk.MEDIUM if seconds < HIGH_SECONDS else Risk.HIGH)
    elif s.work == "rows" and seconds >= HIGH_SECONDS:
        found = max(found, Risk.MEDIUM)
    return found


def _queued(plan: Plan, table: str) -> bool:
    """With --live: an open transaction holds a lock on the table now."""
    return any(
        any(lock.startswith(f"{table} ") for lock in session["locks"])
        for session in plan.live or []
    )


def _revision_risk(revision: RevisionPlan, direction: str) -> Risk:
    found = max((s.risk for s in revision.statements), default=Risk.NONE)
    if revision.revision_hints:
        found = max(found, Risk.LOW)
    if revision.error:
        return Risk.HIGH
    down = revision.downgrade
    if direction == "downgrade" and down is not None and (down.loses_data or down.error):
        return Risk.HIGH
    return found
