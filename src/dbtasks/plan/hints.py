"""The hints: what a traced statement will do on the target, and the safe way in Alembic.

Each rule reads what the tracer saw of one statement (its locks, the facts the catalog
showed, the settings it ran under) and names the peers' rule it matches: eugene's E1-E15
(which trace on an empty database; W12-W14 are in `design_rules`) and squawk's lock and
rewrite rules (which read SQL).
Only objects older than the revision are ever the subject: what it made is nobody's yet.
SQL in the alternatives is written lower-case: it is advice to paste into a revision.
"""

from __future__ import annotations

from dbtasks.plan.data_rules import backfill, dropped, outside_transaction, renamed
from dbtasks.plan.design_rules import enum_created, primary_key_sets_not_null, repeated_alter
from dbtasks.plan.hint_base import CONCURRENT_INDEX, Context, Rule, facts, human, rows
from dbtasks.plan.lock_rules import (
    after_exclusive,
    drop_index_not_concurrent,
    index_not_concurrent,
    json_column,
    no_lock_timeout,
    not_null_without_default,
    rewrite,
    set_not_null,
    unique_or_exclusion,
    validated_constraint,
)
from dbtasks.plan.model import Hint, Traced

__all__ = ["RULES", "Context", "for_statement", "foreign_keys_without_index", "human", "rows"]

RULES: tuple[Rule, ...] = (
    outside_transaction,
    validated_constraint,
    set_not_null,
    json_column,
    after_exclusive,
    rewrite,
    index_not_concurrent,
    unique_or_exclusion,
    no_lock_timeout,
    not_null_without_default,
    drop_index_not_concurrent,
    renamed,
    dropped,
    backfill,
    repeated_alter,
    enum_created,
    primary_key_sets_not_null,
)


def for_statement(s: Traced, ctx: Context) -> list[Hint]:
    return [hint for rule in RULES for hint in rule(s, ctx)]


def foreign_keys_without_index(s: Traced, state_after: object) -> list[Hint]:
    """eugene E15: a new foreign key whose columns no index leads with."""
    from dbtasks.plan.observe import State

    assert isinstance(state_after, State)
    found = []
    for fact in facts(s, "constraint"):
        if not fact.flags or fact.flags[0] != "f":
            continue
        name = fact.detail.split(" ")[0]
        con = next((c for c in state_after.cons.values() if c.name == name and c.type == "f"), None)
        if con is None or _indexed(state_after, con.table, con.keys):
            continue
        found.append(
            Hint(
                "foreign-key-without-index",
                "eugene E15",
                f"{name} has no index on its columns in {fact.table}: every delete or key "
                "update on the referenced table scans it",
                CONCURRENT_INDEX + " on the foreign key's columns",
            )
        )
    return found


def _indexed(state: object, table: int, keys: tuple[int, ...]) -> bool:
    from dbtasks.plan.observe import State

    assert isinstance(state, State)
    return any(
        idx.table == table and not idx.partial and idx.keys[: len(keys)] == keys
        for idx in state.idx.values()
    )
