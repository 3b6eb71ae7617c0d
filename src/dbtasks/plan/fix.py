"""`inv db.plan --fix`: which risky statements of the pending revisions move, as their safe
forms (`rewrite`), into one new revision after the head, and which lines of which file they
leave.

A statement is traced with the line its revision's `upgrade()` was at (`tracer`); the
unit that moves is the top-level statement of `upgrade()` at that line (read with `ast`),
with every statement it sent. It moves when:

- one of them has a hint a safe form answers, and each has a safe form;
- no later statement that stays (in its revision or a later one) works on a table it
  works on: the new revision runs after all of them;
- the statements of `downgrade()` that undo it (DROP INDEX, DROP CONSTRAINT, DROP COLUMN
  of the same name, as traced) can go too: each top-level statement of `downgrade()`
  they are in undoes only what moves. The new revision's downgrade undoes it instead.

Dropping one unit can stop another (it now stays, later, on the same table): the rules run
until nothing changes. Everything else keeps its hints. Pure functions of a traced `Plan`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from dbtasks.plan.model import Plan, RevisionPlan, Traced
from dbtasks.plan.rewrite import Safe, safe_form, undo_key


@dataclass(frozen=True)
class Lines:
    """One top-level statement of a revision's upgrade() or downgrade()."""

    file: str  # as the plan shows it (relative to the project)
    function: str  # upgrade or downgrade
    first: int
    last: int
    text: str  # its first line, as written

    def describe(self) -> str:
        span = f"{self.first}-{self.last}" if self.last > self.first else str(self.first)
        where = f"line{'s' * (self.last > self.first)} {span}"
        return f"{self.file} {where} ({self.function}()): {self.text}"


@dataclass
class Unit:
    """What moves together: the statements one top-level statement of upgrade() sent."""

    revision: RevisionPlan
    lines: Lines
    statements: list[tuple[int, Traced, Safe | None]]  # (order in the plan, statement, form)
    undone_by: list[Lines] = field(default_factory=list)  # in downgrade()
    why_not: str | None = None  # why it stays

    @property
    def safe(self) -> list[Safe]:
        return [form for _, _, form in self.statements if form is not None]

    @property
    def tables(self) -> set[str]:
        return {t for _, s, _ in self.statements for t in s.tables()}


@dataclass
class Proposal:
    moved: list[Unit] = field(default_factory=list)  # in plan order
    kept: list[str] = field(default_factory=list)  # statements with hints that stay, and why
    notes: list[str] = field(default_factory=list)
    blocked: str | None = None  # why nothing can move at all

    @property
    def removals(self) -> list[Lines]:
        found = [u.lines for u in self.moved] + [d for u in self.moved for d in u.undone_by]
        unique = {(x.file, x.function, x.first): x for x in found}
        return [unique[k] for k in sorted(unique, key=lambda k: (k[0], k[1] != "upgrade", k[2]))]


def propose(plan: Plan, paths: dict[str, str]) -> Proposal:
    """What moves; `paths` are the revision files by revision id."""
    failed = next((r for r in plan.revisions if r.error), None)
    if failed is not None:
        why = f"{failed.id} fails on the clone ({failed.error}): nothing moves until all run"
        return Proposal(blocked=why)
    sources = Sources(paths)
    units, loose = _units(plan, sources)
    found = Proposal(kept=[f"{_where(r, s)}: not at the top level of upgrade()" for r, s in loose])
    sent = _in_order(plan, units, loose)
    candidates = [u for u in units if any(f and f.answers(s) for _, s, f in u.statements)]
    for unit in candidates:
        if any(form is None for _, _, form in unit.statements):
            unit.why_not = "a statement it sends has no safe form that can be written for it"
    moving = [u for u in candidates if u.why_not is None]
    while True:
        stopped = [u for u in moving if _stopped(u, moving, sent, sources, found.notes)]
        if not stopped:
            break
        moving = [u for u in moving if u not in stopped]
    found.moved = moving
    found.kept += [_kept(u) for u in units if u not in moving and _hinted(u)]
    return found


class Sources:
    """The revision files' text and syntax trees, each read once."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths
        self._read: dict[str, tuple[list[str], ast.Module]] = {}

    def lines(self, revision: RevisionPlan, function: str, line: int | None) -> Lines | None:
        """The top-level statement of `function` at `line` (None: not at its top level)."""
        path = self.paths.get(revision.id)
        if line is None or path is None:
            return None
        text, tree = self._parsed(path)
        body = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
        for node in body[0].body if body else []:
            last = node.end_lineno or node.lineno
            if node.lineno <= line <= last:
                first = text[node.lineno - 1].strip()
                return Lines(revision.file, function, node.lineno, last, first)
        return None

    def _parsed(self, path: str) -> tuple[list[str], ast.Module]:
        if path not in self._read:
            source = Path(path).read_text(encoding="utf-8")
            self._read[path] = (source.splitlines(), ast.parse(source))
        return self._read[path]


def _units(plan: Plan, sources: Sources) -> tuple[list[Unit], list[tuple[RevisionPlan, Traced]]]:
    """Every statement of the plan in its unit, but those not sent from the top level of
    upgrade() (loose)."""
    units: dict[tuple[str, int], Unit] = {}
    loose: list[tuple[RevisionPlan, Traced]] = []
    order = 0
    for revision in plan.revisions:
        for s in revision.statements:
            order += 1
            lines = sources.lines(revision, "upgrade", s.line)
            if lines is None:
                loose += [(revision, s)] if s.hints else []
                continue
            unit = units.setdefault((revision.id, lines.first), Unit(revision, lines, []))
            unit.statements.append((order, s, safe_form(s)))
    return list(units.values()), loose


def _in_order(
    plan: Plan, units: list[Unit], loose: list[tuple[RevisionPlan, Traced]]
) -> list[tuple[int, Traced, str]]:
    """Every statement of the plan: (its order, it, where it came from)."""
    where = {id(s): u.lines.describe() for u in units for _, s, _ in u.statements}
    where |= {id(s): _where(r, s) for r, s in loose}
    every = [(r, s) for r in plan.revisions for s in r.statements]
    return [(i, s, where.get(id(s), r.file)) for i, (r, s) in enumerate(every, 1)]


def _stopped(
    unit: Unit, moving: list[Unit], sent: list[tuple[int, Traced, str]], sources: Sources,
    notes: list[str],
) -> bool:  # fmt: skip
    """A rule stops the unit (and says why in it)."""
    moved = {order for u in moving for order, _, _ in u.statements}
    last = max(order for order, _, _ in unit.statements)
    for order, s, where in sent:
        shared = unit.tables & set(s.tables())
        if order > last and order not in moved and shared:
            unit.why_not = f"{where} works on {min(shared)} after it"
            return True
    return _undo_stops(unit, moving, sources, notes)


def _undo_stops(unit: Unit, moving: list[Unit], sources: Sources, notes: list[str]) -> bool:
    """The downgrade() lines that undo the unit, which must undo only what moves."""
    down = unit.revision.downgrade
    if down is None or not down.ran or down.error:
        note = f"{unit.revision.file}: its downgrade() was not traced; remove what undoes the "
        note += "moved statements there too"
        notes += [note] if note not in notes else []
        unit.undone_by = []
        return False
    keys = {form.undo for form in unit.safe}
    moves = {form.undo for u in moving if u.revision is unit.revision for form in u.safe}
    found: dict[int, Lines] = {}
    for s in down.statements:
        if undo_key(s.sql) not in keys:
            continue
        lines = sources.lines(unit.revision, "downgrade", s.line)
        if lines is None or not _undoes_only(unit, lines, moves, sources):
            unit.why_not = f"what undoes it in {unit.revision.file}'s downgrade() does more"
            return True
        found[lines.first] = lines
    unit.undone_by = list(found.values())
    return False


def _undoes_only(unit: Unit, lines: Lines, moves: set[tuple[str, ...]], sources: Sources) -> bool:
    """Every statement the downgrade() statement at `lines` sent undoes one that moves."""
    down = unit.revision.downgrade
    sent = down.statements if down else []
    inside = [s for s in sent if sources.lines(unit.revision, "downgrade", s.line) == lines]
    return all(undo_key(s.sql) in moves for s in inside)


def _hinted(unit: Unit) -> bool:
    return any(s.hints for _, s, _ in unit.statements)


def _kept(unit: Unit) -> str:
    codes = sorted({h.code for _, s, _ in unit.statements for h in s.hints})
    why = unit.why_not or "no safe form that can be written for it"
    return f"{unit.lines.describe()} [{', '.join(codes)}]: {why}"


def _where(revision: RevisionPlan, s: Traced) -> str:
    codes = ", ".join(sorted({h.code for h in s.hints}))
    return f"{revision.file} line {s.line} [{codes}]" if s.line else f"{revision.file} [{codes}]"
