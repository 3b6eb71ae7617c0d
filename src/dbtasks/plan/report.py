"""A plan as rows and lines: the text table, its GitHub-flavoured Markdown report.

Pure functions of a `Plan`; `tasks/_render.py` writes them through the console.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtasks.plan import locks as modes
from dbtasks.plan.grade import main_table
from dbtasks.plan.hints import human, rows
from dbtasks.plan.model import Downgrade, Hint, Plan, RevisionPlan, Risk, Traced

if TYPE_CHECKING:
    from dbtasks.validate import Finding
from dbtasks.plan.statements import summary

COLUMNS = ("statement", "lock", "blocks", "rewrite", "rows", "size", "time", "risk", "hint")
_MARK = {Risk.NONE: "ok", Risk.LOW: "low", Risk.MEDIUM: "MEDIUM", Risk.HIGH: "HIGH"}
_EMOJI = {Risk.NONE: "✅", Risk.LOW: "🟡", Risk.MEDIUM: "🟠", Risk.HIGH: "🔴"}


def statement_row(s: Traced, plan: Plan, width: int = 60) -> tuple[str, ...]:
    lock = s.strongest
    table = main_table(s)
    size = plan.sizes.get(table) if table else None
    where = f"{modes.sql_name(lock.mode)} {lock.relation}" if lock else "-"
    if lock and not lock.observed:
        where += " (from the statement)"
    return (
        ("[no transaction] " if not s.transactional else "") + summary(s.sql, width),
        where,
        modes.blocks(lock.mode) if lock else "-",
        "yes" if any(f.kind == "rewrite" for f in s.facts) else "-",
        rows(size.rows).removesuffix(" rows") if size else "-",
        human(size.bytes) if size else "-",
        seconds(s.predicted),
        _MARK[s.risk],
        ", ".join(dict.fromkeys(h.code for h in s.hints)) or "-",
    )


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 0.001:
        return "<1 ms"
    return f"~{value * 1000:.0f} ms" if value < 1 else f"~{value:.1f} s"


def heading(revision: RevisionPlan) -> str:
    return f"{revision.id} {revision.message} ({revision.file}): risk {revision.risk.label}"


def downgrade_line(down: Downgrade | None) -> str | None:
    if down is None:
        return None
    parts = [f"downgrade: {down.shape}"]
    if down.error:
        parts.append(f"fails on the clone: {down.error}")
    elif down.ran:
        losses = "; ".join(loss.describe() for loss in down.losses)
        parts.append(f"loses {losses}" if down.loses_data else "loses none of the generated rows")
    if down.note:
        parts.append(down.note)
    return " — ".join(parts)


def status(revision: RevisionPlan) -> str | None:
    if revision.error:
        return f"fails on the clone: {revision.error}"
    return revision.skipped


def summary_line(plan: Plan) -> str:
    counted = {risk: sum(1 for r in plan.revisions if r.risk is risk) for risk in Risk}
    parts = [f"{n} {risk.label}" for risk, n in sorted(counted.items(), reverse=True) if n]
    return (
        f"{len(plan.revisions)} revision(s) planned ({', '.join(parts) or 'none'}); "
        f"risk {plan.risk.label}; {plan.seconds:.1f}s"
    )


def markdown(plan: Plan) -> str:
    """The plan as a pull request comment."""
    lines = [
        f"### {_EMOJI[plan.risk]} `db.plan`: {plan.direction} of {len(plan.revisions)} "
        f"revision(s), risk **{plan.risk.label}**",
        "",
        f"Target `{plan.target}` at `{', '.join(plan.current) or 'base'}`; traced on {plan.clone}.",
    ]
    for revision in plan.revisions:
        lines += ["", f"#### {_EMOJI[revision.risk]} `{revision.id}` {_cell(revision.message)}"]
        lines += [f"`{revision.file}` — risk **{revision.risk.label}**", ""]
        note = status(revision)
        if note:
            lines += [f"> {_cell(note)}", ""]
        lines += _statement_table(revision, plan)
        lines += _hint_list(revision)
        down = downgrade_line(revision.downgrade)
        if down:
            lines += ["", f"*{_cell(down)}*"]
    return "\n".join(lines) + "\n"


def _statement_table(revision: RevisionPlan, plan: Plan) -> list[str]:
    if not revision.statements:
        return ["(no statement)"]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for s in revision.statements:
        row = list(statement_row(s, plan, 80))
        row[0] = f"`{row[0]}`"
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def _hint_list(revision: RevisionPlan) -> list[str]:
    found = []
    for hint in revision.hints:
        found.append(f"- **{hint.code}** ({hint.refs}): {_cell(hint.message)}")
        found.append(f"  - instead: `{hint.alternative}`")
    return ["", *found] if found else []


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def findings(plan: Plan) -> list[Finding]:
    """db.validate's plan check: a high risk fails, a medium one warns; so does a
    downgrade that loses data or fails."""
    from dbtasks.validate import fail, warn

    found = []
    for revision in plan.revisions:
        where = (revision.id, revision.file)
        if revision.risk >= Risk.MEDIUM:
            make = fail if revision.risk is Risk.HIGH else warn
            why = status(revision) or "; ".join(
                f"{h.code}: {h.message} (instead: {h.alternative})" for h in _worst(revision)
            )
            found.append(make(f"risk {revision.risk.label}: {why}", *where))
        down = revision.downgrade
        if down is not None and (down.loses_data or down.error):
            found.append(warn(downgrade_line(down) or "", *where))
    return found


def _worst(revision: RevisionPlan) -> list[Hint]:
    statements = [s for s in revision.statements if s.risk is revision.risk]
    return [h for s in statements for h in s.hints][:3] or revision.hints[:3]
