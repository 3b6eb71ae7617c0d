"""`db.prepare`: onboarding that can run any number of times (like Rails' db:prepare).

Start the stack, create the database and schema if missing, write the first migration
only if there is none, upgrade to head, and seed a database that starts from nothing (one
just created, or one never migrated). A second run finds nothing to do and says so.

Prepare is granted MIGRATE; seeding is a WRITE, so it asks the guard for that grant of its
own and seeds only what `db.seed` would be allowed to seed, saying so when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbtasks import guard
from dbtasks.flows.author import write_initial
from dbtasks.flows.migrate import Move, Upgrade, final_status, run, show_revisions
from dbtasks.guard import Intent
from dbtasks.workflow import Flow, Work

if TYPE_CHECKING:
    from dbtasks.migrations.lock import Held
    from dbtasks.migrations.status import MigrationStatus


@dataclass(frozen=True)
class Onboarding:
    move: Move
    write_first: bool  # no revision file exists yet
    seed: bool  # the database starts from nothing, and there is something to seed
    not_seeding: str | None = None  # why seeding is left out, when the guard says no

    @property
    def idle(self) -> bool:
        return not (self.move.revisions or self.write_first or self.seed)


class Prepare(Flow[Onboarding, "MigrationStatus | None"]):
    intent = Intent.MIGRATE
    action = "prepare"

    def plan(self, work: Work) -> Onboarding:
        current = work.current()
        move = Move(current, "heads", tuple(work.graph.pending(current)))
        # Seeds belong to a database that had nothing: never re-seed one already in use.
        seed = not current and bool(work.settings.seeds or work.settings.seed_callable)
        refused = guard.refusal(work.settings, Intent.WRITE, "seed") if seed else None
        return Onboarding(move, not len(work.graph), seed and refused is None, refused)

    def show(self, work: Work, plan: Onboarding) -> bool:
        if plan.not_seeding:
            work.console.step(f"not seeding: {plan.not_seeding}")
        if plan.idle:
            return False
        if plan.write_first:
            work.console.step("no migrations yet: writing the first one from the models")
        if plan.move.revisions:
            show_revisions(work.console, f"{len(plan.move.revisions)} pending", plan.move.revisions)
        return True

    def act(self, work: Work, plan: Onboarding, held: Held | None) -> MigrationStatus:
        if plan.write_first:
            write_initial(work)
        move = Upgrade().plan(work)
        if move.revisions:
            run(work, move, held, upgrade=True)
        if plan.seed:
            from dbtasks.flows.seed import seed_into

            seed_into(work, guard.grant(work.settings, Intent.WRITE, "seed"), "inv db.seed")
        return final_status(work)

    def idle(self, work: Work, plan: Onboarding) -> None:
        head = ", ".join(plan.move.current) or "base"
        work.console.ok(f"up to date: at head {head}, nothing to do")
