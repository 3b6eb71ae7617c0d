"""The revision `inv db.plan --fix` writes: the moved statements' safe forms in `upgrade()`,
in their order, and what undoes them in `downgrade()`, in reverse.

Each safe form is steps inside a transaction or inside an `autocommit_block()`; runs of
transactional steps open with `SET LOCAL lock_timeout` (Alembic begins a new transaction
after each autocommit block, and SET LOCAL ends with its transaction). It is rendered from
`templates/_fix.mako` and written by Alembic after the one head, like `db.revision
--template` writes a revision: its file name, id and version folder are Alembic's, and the
file is kept only inside the version folders' FileGrant, compiled and imported.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.plan.rewrite import AUTOCOMMIT, SET_LOCAL, Step, execute
from dbtasks.templates import FOLDER

if TYPE_CHECKING:
    from dbtasks.plan.fix import Proposal
    from dbtasks.plan.model import Plan
    from dbtasks.workflow import Work

TEMPLATE = FOLDER / "_fix.mako"


@dataclass(frozen=True)
class Fixed:
    """What `--fix` did: the proposal, and the revision written for it (None: none)."""

    proposal: Proposal
    revision: str | None = None
    path: str | None = None
    after: str | None = None  # the head it revises

    def as_dict(self) -> dict[str, Any]:
        found = self.proposal
        return {
            "written": self.path,
            "revision": self.revision,
            "after": self.after,
            "remove": [asdict(lines) for lines in found.removals],
            "kept": found.kept,
            "notes": found.notes,
            "blocked": found.blocked,
        }


def fix(work: Work, plan: Plan) -> Fixed:
    """Propose the moves of `plan`, and write their revision when something moves."""
    from dbtasks.plan.fix import propose

    paths = {r.id: work.ws.graph.get(r.id).path for r in plan.revisions}
    proposal = propose(plan, paths)
    if not proposal.moved:
        return Fixed(proposal)
    return write(work, proposal)


def body(steps: list[Step]) -> str:
    """The steps as the indented body of upgrade() or downgrade()."""
    lines: list[str] = []
    for autocommit, run in itertools.groupby(steps, key=lambda step: step.autocommit):
        if autocommit:
            lines += [AUTOCOMMIT, *(f"    {step.code}" for step in run)]
        else:
            lines += [execute(SET_LOCAL), *(step.code for step in run)]
    return "\n".join(f"    {line}" for line in lines) or "    pass"


def values(proposal: Proposal) -> dict[str, Any]:
    """What `_fix.mako` renders besides Alembic's own values."""
    forms = [form for unit in proposal.moved for form in unit.safe]
    return {
        "upgrade": body([step for form in forms for step in form.upgrade]),
        "downgrade": body([step for form in reversed(forms) for step in form.downgrade]),
        "uses_sa": any(form.uses_sa for form in forms),
        "removed": [in_docstring(lines.describe()) for lines in proposal.removals],
    }


def in_docstring(text: str) -> str:
    """`text` as a line of a triple-quoted docstring reads it back (quotes stay readable)."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def message(proposal: Proposal) -> str:
    ids = dict.fromkeys(unit.revision.id for unit in proposal.moved)
    return f"safe forms from {', '.join(ids)}"


def write(work: Work, proposal: Proposal) -> Fixed:
    """Write the revision after the head (there is one: `db.plan --fix` checked)."""
    from dbtasks.adapter.autogen import empty_revision
    from dbtasks.flows.author import revision_files

    ws = work.ws
    (head,) = ws.graph.heads
    files = revision_files(ws.state.where.folders)
    new = empty_revision(ws, message(proposal), files, TEMPLATE, values(proposal))
    return Fixed(proposal, new.id, new.path, head)
