"""`db.plan` in the read-only shape: one function over the target's `Work`.

The target is read (its revision, then its tables' sizes, with `--live` its sessions);
everything else happens on the clone: each revision of the plan runs there traced, then
its downgrade runs with generated rows and is rolled back. Grading and hints come last,
from what was traced and what the target holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.plan.model import Plan, RevisionPlan

if TYPE_CHECKING:
    from dbtasks.migrations.graph import Graph, Revision
    from dbtasks.plan.clone import Clone
    from dbtasks.plan.tracer import Tracer
    from dbtasks.workflow import Work


@dataclass(frozen=True)
class Options:
    target: str = "heads"  # where the plan goes: an upgrade to it, or with `downgrade` down to it
    downgrade: bool = False
    live: bool = False
    allow_remote: bool = False
    check_downgrades: bool = True  # prove each pending revision's downgrade too
    calibrate: bool = True  # time O(size) statements again with generated rows
    copy_schema: bool = False  # clone the target's own schema (pg_dump), not its history


def plan(work: Work, options: Options) -> Plan:
    """The plan for the target's pending revisions (or for a rollback to `options.target`)."""
    from dbtasks.plan import grade, sizes
    from dbtasks.plan.clone import clone

    started = time.perf_counter()
    current = work.current()
    chosen = _chosen(work, current, options)
    direction = "downgrade" if options.downgrade else "upgrade"
    found = Plan(work.settings.masked_url, current, direction, clone="not needed")
    if chosen:
        applied = applied_revisions(work.graph, current)
        with clone(work, current, applied, options.allow_remote, options.copy_schema) as made:
            found.clone = made.how
            found.revisions = _trace(work, made, chosen, options, found)
        touched = sorted({t for r in found.revisions for t in _tables(r)})
        if options.live:
            found.live = sizes.live(work.settings, touched)
        grade.grade(found)
    found.seconds = time.perf_counter() - started
    return found


def _sizes(work: Work, found: Plan, entry: RevisionPlan) -> None:
    """The target's size of each table the revision touched, read once per table."""
    from dbtasks.plan import sizes

    wanted = [t for t in _tables(entry) if t not in found.sizes]
    found.sizes.update(sizes.read(work.settings, wanted))


def _chosen(work: Work, current: tuple[str, ...], options: Options) -> list[Revision]:
    from dbtasks.adapter.plan import downgrade_plan, upgrade_plan

    if options.downgrade:
        return downgrade_plan(work.ws, current, options.target)
    return upgrade_plan(work.ws, current, options.target)


def applied_revisions(graph: Graph, current: tuple[str, ...]) -> list[Revision]:
    """What the target has applied, oldest first: what the clone replays."""
    done = graph.ancestors(current)
    return [r for r in reversed(graph.revisions) if r.id in done]


def _trace(
    work: Work, made: Clone, chosen: list[Revision], options: Options, found: Plan
) -> list[RevisionPlan]:
    from dbtasks.plan import calibrate
    from dbtasks.plan.tracer import Tracer

    tracer = Tracer(made.connection, work.version.table)
    step = _rollback if options.downgrade else _upgrade
    planned: list[RevisionPlan] = []
    failed: str | None = None
    for revision in chosen:
        entry = RevisionPlan(revision.id, revision.message, work.ws.relpath(revision.path))
        planned.append(entry)
        if failed is not None:
            entry.skipped = f"not traced: {failed} fails on the clone first"
            continue
        step(work, made, tracer, revision, entry, options)
        _sizes(work, found, entry)
        if entry.error or (entry.downgrade and entry.downgrade.error and options.downgrade):
            failed = revision.id
        elif options.calibrate and not options.downgrade:
            calibrate.statements(work, made, tracer, revision, entry, found.sizes)
    found.calibration = calibrate.summary(planned)
    return planned


def _upgrade(
    work: Work,
    made: Clone,
    tracer: Tracer,
    revision: Revision,
    entry: RevisionPlan,
    options: Options,
) -> None:
    from dbtasks.adapter.run import MigrationFailed, migrate
    from dbtasks.plan import downgrade, hints

    tracer.start(revision.path)
    try:
        with tracer.listening():
            migrate(
                work.ws,
                made.connection,
                revision.id,
                [revision],
                lambda step: None,
                made.scratch.grant,
            )
    except MigrationFailed as exc:
        entry.error = exc.reason or exc.message
    entry.statements = tracer.statements
    if entry.error:
        return
    if tracer.last is not None:
        for statement in entry.statements:
            entry.revision_hints += hints.foreign_keys_without_index(statement, tracer.last)
    made.applied(revision)
    if not options.check_downgrades:
        return
    tables = set(_tables(entry)) | set(tracer.created())
    entry.downgrade = downgrade.check(work, made, tracer, revision, tables)
    if _outside_transaction(entry.downgrade.statements):
        made.rebuild(work)
        tracer.connection = made.connection


def _rollback(
    work: Work,
    made: Clone,
    tracer: Tracer,
    revision: Revision,
    entry: RevisionPlan,
    options: Options,
) -> None:
    """A revision to undo: its downgrade, traced with generated rows in every table of the
    schema and rolled back, then undone for real so the next one starts where it would."""
    from dbtasks.adapter.run import migrate
    from dbtasks.plan import downgrade

    tables = _schema_tables(made, work.settings.schema)
    checked = downgrade.check(work, made, tracer, revision, tables)
    entry.downgrade, entry.statements = checked, checked.statements
    if checked.error or checked.shape == "missing":
        entry.error = checked.error
        return
    made.applied(revision, upgrade=False)
    if _outside_transaction(checked.statements):
        made.rebuild(work)
        tracer.connection = made.connection
        return
    grant = made.scratch.grant
    migrate(work.ws, made.connection, revision.id, [revision], lambda s: None, grant, False)


def _schema_tables(made: Clone, schema: str) -> set[str]:
    from dbtasks.plan.observe import observe

    raw: Any = made.connection.connection.dbapi_connection
    with raw.cursor() as cur:
        state = observe(cur)
    raw.rollback()
    return {rel.qualified for rel in state.tables(schema).values()}


def _outside_transaction(statements: list) -> bool:  # type: ignore[type-arg]
    return any(not s.transactional for s in statements)


def _tables(entry: RevisionPlan) -> list[str]:
    found = [t for s in entry.statements for t in s.tables()]
    if entry.downgrade:
        found += [t for s in entry.downgrade.statements for t in s.tables()]
    return list(dict.fromkeys(found))
