"""The hints about data and transactions: renames and drops that break or lose, backfills
in one statement, and work done outside a transaction."""

from __future__ import annotations

from dbtasks.plan.hint_base import (
    Context,
    facts,
)
from dbtasks.plan.model import Hint, Traced


def renamed(s: Traced, ctx: Context) -> list[Hint]:
    return [
        Hint(
            "rename",
            "squawk renaming-column, renaming-table",
            f"renames {fact.flags[0] if fact.flags else ''} {fact.detail} of {fact.table}: "
            "running code that uses the old name fails at once",
            "add the new name beside the old one (a column, or a view for a table), move the "
            "code over, then drop the old one in a later revision",
        )
        for fact in facts(s, "rename")
    ]


def dropped(s: Traced, ctx: Context) -> list[Hint]:
    found = []
    for kind in ("drop column", "drop table"):
        for fact in facts(s, kind):
            found.append(
                Hint(
                    kind.replace(" ", "-"),
                    f"squawk ban-{kind.replace(' ', '-')}",
                    f"drops {fact.detail} of {ctx.size(fact.table)}: its data is gone, and "
                    "running code that reads it fails",
                    "stop using it in the code first (deploy), then drop it in a later revision",
                )
            )
    return found


def backfill(s: Traced, ctx: Context) -> list[Hint]:
    if s.work != "rows" or s.predicted is None or s.predicted < 1.0:
        return []
    table = s.tables()[0] if s.tables() else "?"
    return [
        Hint(
            "backfill-in-one-statement",
            "strong_migrations backfilling-data",
            f"changes every row of {ctx.size(table)} in one statement: they stay locked "
            "against other writers until the revision commits",
            "backfill in batches of a few thousand rows (each committed), in a revision "
            "of its own or a script",
        )
    ]


def outside_transaction(s: Traced, ctx: Context) -> list[Hint]:
    from dbtasks.plan.statements import classify

    # A SET or RESET (a lock_timeout around a VALIDATE) leaves nothing in the database.
    if s.transactional or classify(s.sql, "").sets:
        return []
    what = ", ".join(f"{f.kind} {f.detail}".strip() for f in s.facts) or "see the statement"
    return [
        Hint(
            "outside-transaction",
            "squawk transaction-nesting",
            f"runs outside a transaction (an autocommit_block): {what}; if it fails, what it "
            "did stays (a failed concurrent index build leaves an INVALID index behind)",
            "keep each autocommit_block to one statement written to be rerun "
            "(postgresql_concurrently=True with if_not_exists=True), in a revision of its own",
        )
    ]
