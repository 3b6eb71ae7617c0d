"""How `db.*` results look: text for people, JSON for machines. No decisions here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.health import HealthReport
    from dbtasks.migrations.graph import Revision
    from dbtasks.migrations.journal import Entry
    from dbtasks.migrations.status import MigrationStatus
    from dbtasks.plan.fix_revision import Fixed
    from dbtasks.plan.model import Plan, RevisionPlan
    from dbtasks.reads.adopt import Adoption
    from dbtasks.reads.history import Described, HistoryRow
    from dbtasks.reads.readiness import Readiness
    from dbtasks.validate.run import Report

_SNAPSHOT = {
    "valid": "valid: `inv db.reset` clones it",
    "stale": "stale: migrations or seeds changed since; the next reset rebuilds it",
    "none": "none yet: the next `inv db.reset` builds one",
}


def health(console: Console, base: dict[str, str], report: HealthReport, ready: Readiness) -> None:
    if console.json_mode:
        console.json(
            {
                **base,
                "healthy": not ready.problems,
                "server_version": report.server_version,
                "connect_ms": round(report.connect_ms, 2),
                "latency_ms": round(report.latency_ms, 2),
                **ready.as_dict(),
            }
        )
        return
    head = {True: "yes", False: "no: `inv db.upgrade`", None: "(no Alembic history)"}
    console.fields(
        [
            *base.items(),
            ("server", f"PostgreSQL {report.server_version}"),
            ("connect", f"{report.connect_ms:.1f} ms"),
            ("round trip", f"{report.latency_ms:.2f} ms"),
            (
                "at head",
                f"unknown: {ready.history_error}" if ready.history_error else head[ready.at_head],
            ),
        ]
    )
    if not ready.problems:
        console.ok("healthy")


def status(console: Console, report: MigrationStatus) -> None:
    if console.json_mode:
        console.json(report.as_dict())
        return
    console.fields(
        [
            ("backend", report.backend),
            ("url", report.url),
            ("schema", report.schema),
            ("current", ", ".join(report.current) or "(none)"),
            ("head", ", ".join(report.heads) or "(no migrations)"),
            *([("snapshot", _SNAPSHOT[report.snapshot])] if report.snapshot else []),
        ]
    )
    if report.pending:
        console.line(f"pending ({len(report.pending)}):")
        console.table(("revision", "message"), [(r.id, r.message) for r in report.pending])
    for warning in report.warnings:
        console.warn(warning)
    if report.at_head:
        console.ok(report.summary())
    else:
        console.line(report.summary())


def history(console: Console, rows: list[HistoryRow]) -> None:
    if console.json_mode:
        console.json([row.as_dict() for row in rows])
        return
    console.table(
        ("revision", "message", "date", "state", "shape"),
        [
            (r.revision.id, r.revision.message, r.revision.date, r.state, shape(r.revision))
            for r in rows
        ],
    )


def timings(console: Console, entries: list[Entry]) -> None:
    if console.json_mode:
        console.json([e.as_dict() for e in entries])
        return
    if not entries:
        console.line("no revision has been applied by dbtasks yet")
        return
    console.table(
        ("revision", "direction", "started", "ms", "outcome", "by"),
        [
            (
                e.revision,
                e.direction,
                e.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                f"{e.duration_ms:.1f}",
                e.outcome,
                e.applied_by,
            )
            for e in entries
        ],
    )


def described(console: Console, items: list[Described], root: Path) -> None:
    if console.json_mode:
        console.json([d.as_dict() for d in items])
        return
    for item in items:
        r = item.revision
        console.fields(
            [
                ("revision", r.id),
                ("message", r.message),
                ("file", _relative(r.path, root)),
                ("parents", ", ".join(r.down) or "(base)"),
                ("children", ", ".join(item.children) or "(head)"),
                *([("depends on", ", ".join(r.depends_on))] if r.depends_on else []),
                *([("branch labels", ", ".join(r.branch_labels))] if r.branch_labels else []),
                ("state", item.state),
            ]
        )
        console.line()


def adoption(console: Console, found: Adoption) -> None:
    if console.json_mode:
        console.json(found.as_dict())
        return
    report = found.as_dict()
    steps = report.pop("next_steps")
    console.fields([(k.replace("_", " "), _listed(v)) for k, v in report.items()])
    for step in steps:
        console.step(step)


def _listed(value: object) -> object:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return "(none)" if value is None else value


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def shape(revision: Revision) -> str:
    marks = []
    if revision.merge:
        marks.append(f"merge of {', '.join(revision.down)}")
    if revision.branch_point:
        marks.append("branch point")
    return "; ".join(marks)


_MARKS = {"pass": "✓", "warn": "!", "fail": "✗", "skipped": "-", "error": "✗", "refused": "✗"}


def validation(console: Console, report: Report) -> None:
    if console.json_mode:
        console.json(report.as_dict())
        return
    for result in report.results:
        note = result.skipped or result.error or ""
        line = f"{_MARKS[result.state]} {result.name:<12} {result.state:<7} ({result.seconds:.2f}s)"
        console.line(f"{line} {note}".rstrip())
        for finding in result.findings:
            where = " ".join(
                p for p in (finding.revision, finding.file and f"({finding.file})") if p
            )
            console.line(
                f"    {finding.level.value}: {where + ': ' if where else ''}{finding.message}"
            )


def plan(console: Console, found: Plan, markdown: bool = False) -> None:
    """`db.plan`: a table per revision, its hints with the safe way, its downgrade."""
    from dbtasks.plan import report

    if console.json_mode:
        console.json(found.as_dict())
        return
    if markdown:
        console.line(report.markdown(found).rstrip("\n"))
        return
    console.fields(
        [
            ("target", found.target),
            ("current", ", ".join(found.current) or "(none)"),
            ("direction", found.direction),
            ("traced on", found.clone),
        ]
    )
    for revision in found.revisions:
        _planned_revision(console, found, revision)
    for session in found.live or []:
        console.line(f"open transaction: {_session(session)}")
    console.line(report.summary_line(found))


def fixed(console: Console, found: Plan, done: Fixed) -> None:
    """`db.plan --fix`: the revision written, and the lines it replaces (or why none)."""
    if console.json_mode:
        console.json({**found.as_dict(), "fix": done.as_dict()})
        return
    proposal = done.proposal
    console.line()
    if done.path is None:
        console.line("fix: nothing written")
    else:
        console.ok(
            f"fix: wrote {done.path} (revision {done.revision}, after {done.after}) with the "
            f"safe forms of {len(proposal.moved)} statement(s); review it, then remove these "
            "lines from the pending revisions:"
        )
        for lines in proposal.removals:
            console.line(f"  {lines.describe()}")
    for why in [proposal.blocked or "", *proposal.notes]:
        if why:
            console.line(f"  {why}")
    for kept in proposal.kept:
        console.line(f"  kept as a hint: {kept}")


def _planned_revision(console: Console, found: Plan, revision: RevisionPlan) -> None:
    from dbtasks.plan import report

    console.line()
    console.line(report.heading(revision), style="bold")
    note = report.status(revision)
    if note:
        console.line(f"  {note}")
    if revision.statements:
        console.table(report.COLUMNS, [report.statement_row(s, found) for s in revision.statements])
    for hint in revision.hints:
        console.line(f"  {hint.code} ({hint.refs}): {hint.message}")
        console.line(f"    instead: {hint.alternative}")
    down = report.downgrade_line(revision.downgrade)
    if down:
        console.line(f"  {down}")


def _session(session: dict[str, object]) -> str:
    held = session.get("locks")
    locks = ", ".join(map(str, held)) if isinstance(held, list) and held else "no lock on them"
    waiting = ", waiting for a lock" if session.get("waiting") else ""
    return (
        f"pid {session['pid']} ({session['application'] or session['user']}, {session['state']}) "
        f"open {session['open_seconds']}s{waiting}: {locks}"
    )
