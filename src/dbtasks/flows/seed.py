"""`db.seed`: every seed file (and the seed callable) in one transaction, under a WRITE
grant; and the seed step other flows compose (prepare, reset) under theirs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbtasks.guard import Intent
from dbtasks.seeds import apply_seeds, seed_files
from dbtasks.workflow import Flow, Work

if TYPE_CHECKING:
    from dbtasks.grants import Grant
    from dbtasks.migrations.lock import Held


@dataclass(frozen=True)
class SeedPlan:
    files: tuple[str, ...]
    callable: str | None


class Seed(Flow[SeedPlan, list[str]]):
    """`inv db.seed`: every seed file (and the callable) in one transaction."""

    intent = Intent.WRITE
    action = "seed"

    def plan(self, work: Work) -> SeedPlan:
        root = work.settings.project_root
        files = seed_files(work.settings, warn=work.console.warn)
        return SeedPlan(tuple(str(p.relative_to(root)) for p in files), work.settings.seed_callable)

    def show(self, work: Work, plan: SeedPlan) -> bool:
        return bool(plan.files or plan.callable)

    def act(self, work: Work, plan: SeedPlan, held: Held | None) -> list[str]:
        return apply_seeds(work.settings, work.conn, work.grant)

    def idle(self, work: Work, plan: SeedPlan) -> list[str]:
        return []


def seed_into(work: Work, grant: Grant, again: str) -> None:
    """Seed `work`'s database under `grant` (a flow composing a seed), one line either way."""
    ran = apply_seeds(work.settings, work.conn, grant, again)
    work.console.step(f"seeded from {', '.join(ran)}" if ran else "no seed files to load")
