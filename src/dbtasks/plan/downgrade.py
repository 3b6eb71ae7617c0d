"""Downgrade planning: what each revision's downgrade is, and what it loses.

The shape is read from the revision file (`ast`): no `downgrade()`, one that only
passes, one that only raises, or a real one. What it loses is proven on the clone: inside
the downgrade's own transaction, generated rows are written into every table its upgrade
touched (`rows`), the downgrade runs, the rows and columns still there are counted, and
the transaction is rolled back, leaving the clone as the upgrade left it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks.errors import DbTasksError
from dbtasks.plan import rows
from dbtasks.plan.model import Downgrade, Loss
from dbtasks.plan.observe import State, observe

if TYPE_CHECKING:
    from dbtasks.adapter.run import Step
    from dbtasks.migrations.graph import Revision
    from dbtasks.plan.clone import Clone
    from dbtasks.plan.tracer import Tracer
    from dbtasks.workflow import Work


def shape(path: str) -> str:
    """present, empty (only `pass`, `...` or a docstring), raising (only `raise`), missing."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return "present"
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade"]
    if not found:
        return "missing"
    body = [n for n in found[-1].body if not _is_constant(n)]
    if all(isinstance(n, ast.Pass) for n in body):
        return "empty"
    if all(isinstance(n, ast.Raise) for n in body):
        return "raising"
    return "present"


def _is_constant(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


class _Checked(DbTasksError):
    """Ends the downgrade's transaction once its losses are counted: it is rolled back."""

    def __init__(self, losses: list[Loss]) -> None:
        super().__init__("downgrade checked")
        self.losses = losses


@dataclass
class _Probe:
    """Which tables get generated rows; what they held before the downgrade ran."""

    wanted: set[str]
    count: int = rows.ROWS
    filled: rows.Fill = field(default_factory=rows.Fill)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> rows, heap bytes

    def first(self, raw: Any, state: State) -> None:
        chosen = [oid for oid, rel in state.tables().items() if rel.qualified in self.wanted]
        self.filled = rows.fill(raw, state, chosen, self.count)
        self.sizes = {f.table: (f.rows, _heap(raw, oid)) for oid, f in self.filled.tables.items()}

    def counted(self, step: Step) -> None:
        raw = step.connection.connection.dbapi_connection
        with raw.cursor() as cur:
            after = observe(cur)
        raise _Checked(rows.losses(raw, self.filled, after))


def _heap(raw: Any, oid: int) -> int:
    with raw.cursor() as cur:
        cur.execute("SELECT pg_relation_size(%s)", (oid,))
        return int(cur.fetchone()[0])


def check(
    work: Work, clone: Clone, tracer: Tracer, revision: Revision, tables: set[str]
) -> Downgrade:
    """Run `revision`'s downgrade on the clone with generated rows in `tables`, traced,
    then roll it back. The clone is rebuilt when part of it ran outside a transaction."""
    found = Downgrade(shape(revision.path))
    if found.shape == "missing":
        found.note = "the revision has no downgrade()"
        return found
    probe = _Probe(tables)
    error, losses = run_checked(work, clone, tracer, revision, probe, upgrade=False)
    found.statements = tracer.statements
    found.ran, found.error = error is None, error
    found.losses = losses
    if probe.filled.notes:
        found.note = "not filled: " + "; ".join(probe.filled.notes)
    return found


def run_checked(
    work: Work, clone: Clone, tracer: Tracer, revision: Revision, probe: Any, upgrade: bool
) -> tuple[str | None, list[Loss]]:
    """Run one revision with `probe` at its first statement and after its last, inside its
    transaction, which `probe.counted` then rolls back. (error, losses)."""
    from dbtasks.adapter.run import MigrationFailed, migrate

    tracer.start(revision.path)
    tracer.on_first = probe.first
    try:
        with tracer.listening():
            migrate(
                work.ws,
                clone.connection,
                revision.id,
                [revision],
                probe.counted,
                clone.scratch.grant,
                upgrade,
            )
    except _Checked as done:
        return None, done.losses
    except MigrationFailed as exc:
        return exc.reason or exc.message, []
    finally:
        tracer.on_first = None
    return None, []
