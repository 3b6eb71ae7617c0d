"""The hints about locks, rewrites and constraints: what a statement holds, for how long,
on which table, and the way to take less (eugene E1-E11, squawk's lock rules)."""

from __future__ import annotations

from dbtasks.plan import locks as modes
from dbtasks.plan.hint_base import (
    CONCURRENT_INDEX,
    TIMEOUT,
    Context,
    facts,
    mode_of,
    name_of,
)
from dbtasks.plan.model import Fact, Hint, Traced


def validated_constraint(s: Traced, ctx: Context) -> list[Hint]:
    found = []
    for fact in facts(s, "constraint"):
        kind = fact.flags[0] if fact.flags else ""
        if kind not in ("c", "f") or "not valid" in fact.flags:
            continue
        create = "op.create_foreign_key" if kind == "f" else "op.create_check_constraint"
        found.append(
            Hint(
                "validated-constraint",
                "eugene E1, squawk constraint-missing-not-valid"
                + (", adding-foreign-key-constraint" if kind == "f" else ""),
                f"adds {fact.detail.split(' ')[0]} and checks every row of {ctx.size(fact.table)} "
                f"while holding {mode_of(s, fact.table)}",
                f"{create}(..., postgresql_not_valid=True), then in a later revision "
                f'op.execute("alter table {fact.table} validate constraint {name_of(fact)}")',
            )
        )
    return found


def set_not_null(s: Traced, ctx: Context) -> list[Hint]:
    return [
        Hint(
            "set-not-null",
            "eugene E2, squawk adding-not-nullable-field",
            f"makes {fact.detail} NOT NULL: every row of {ctx.size(fact.table)} is scanned under "
            "ACCESS EXCLUSIVE (reads and writes wait)",
            f'op.create_check_constraint("ck_{fact.detail}_not_null", ..., '
            f'"{fact.detail} IS NOT NULL", postgresql_not_valid=True); validate it in a later '
            "revision; then op.alter_column(..., nullable=False) skips the scan, and the check "
            "can go",
        )
        for fact in facts(s, "not null")
        if "checked" not in fact.flags
    ]


def json_column(s: Traced, ctx: Context) -> list[Hint]:
    return [
        Hint(
            "json-column",
            "eugene E3",
            f"adds {fact.detail} to {fact.table}: json has no equality operator (DISTINCT, "
            "UNION and GROUP BY fail on it)",
            "sa.Column(..., postgresql.JSONB()) instead of sa.JSON()",
        )
        for fact in facts(s, "column")
        if "json" in fact.flags
    ]


def after_exclusive(s: Traced, ctx: Context) -> list[Hint]:
    if not s.after_exclusive or not s.transactional or _trivial(s):
        return []
    return [
        Hint(
            "work-under-exclusive-lock",
            "eugene E4",
            f"runs while {s.after_exclusive} is held ACCESS EXCLUSIVE by an earlier statement: "
            "reads and writes of it wait for this one too",
            "move this step into a revision of its own (each revision commits, releasing "
            "its locks)",
        )
    ]


def _trivial(s: Traced) -> bool:
    return s.sql.lstrip().lower().startswith(("set ", "select set_config", "reset "))


def rewrite(s: Traced, ctx: Context) -> list[Hint]:
    found = []
    for fact in facts(s, "rewrite"):
        types = facts(s, "type")
        columns = facts(s, "column")
        if types:
            found.append(
                Hint(
                    "rewrite-type-change",
                    "eugene E5, squawk changing-column-type",
                    f"changes {types[0].detail}, rewriting {ctx.size(fact.table)} and its indexes "
                    "under ACCESS EXCLUSIVE",
                    "op.add_column with the new type (nullable), backfill it in batches, switch "
                    "the code over, then op.drop_column the old one (varchar(n) → text or a longer "
                    "varchar does not rewrite)",
                )
            )
        else:
            what = f"adding {columns[0].detail}" if columns else "this statement"
            found.append(
                Hint(
                    "rewrite-under-lock",
                    "eugene E10/E11, squawk adding-field-with-default, "
                    "adding-serial-primary-key-field",
                    f"{what} rewrites {ctx.size(fact.table)} and its indexes under ACCESS "
                    "EXCLUSIVE",
                    "op.add_column without a volatile default, serial or stored generated value "
                    "(nullable), backfill it in batches, then set the default or constraint",
                )
            )
    return found


def index_not_concurrent(s: Traced, ctx: Context) -> list[Hint]:
    if not s.transactional:
        return []
    found = []
    for fact in facts(s, "index"):
        if _from_constraint(s, fact):
            continue
        found.append(
            Hint(
                "index-not-concurrent",
                "eugene E6, squawk require-concurrent-index-creation",
                f"builds {fact.detail} on {ctx.size(fact.table)} holding SHARE: writes wait "
                "until it is built",
                CONCURRENT_INDEX,
            )
        )
    return found


def _from_constraint(s: Traced, index: Fact) -> bool:
    name = index.detail.split(".")[-1]
    return any(f.detail.split(" ")[0] == name for f in facts(s, "constraint"))


def unique_or_exclusion(s: Traced, ctx: Context) -> list[Hint]:
    found = []
    for fact in facts(s, "constraint"):
        kind = fact.flags[0] if fact.flags else ""
        name = fact.detail.split(" ")[0]
        if kind in ("u", "p") and " USING INDEX " not in s.sql.upper():
            found.append(
                Hint(
                    "unique-constraint-index",
                    "eugene E7, squawk disallowed-unique-constraint",
                    f"adds {name}, building its index on {ctx.size(fact.table)} under ACCESS "
                    "EXCLUSIVE",
                    f"{CONCURRENT_INDEX} with unique=True; then in a later revision "
                    f'op.execute("alter table {fact.table} add constraint {name} '
                    'unique using index ...")',
                )
            )
        elif kind == "x":
            found.append(
                Hint(
                    "exclusion-constraint",
                    "eugene E8",
                    f"adds exclusion constraint {name}, building its index on "
                    f"{ctx.size(fact.table)} under ACCESS EXCLUSIVE",
                    "no concurrent way exists: run it when the table is quiet, with " + TIMEOUT,
                )
            )
    return found


def no_lock_timeout(s: Traced, ctx: Context) -> list[Hint]:
    strongest = s.strongest
    if strongest is None or not modes.dangerous(strongest.mode) or not s.transactional:
        return []
    if s.lock_timeout not in ("0", "0ms", ""):
        return []
    return [
        Hint(
            "no-lock-timeout",
            "eugene E9, squawk require-timeout-settings",
            f"takes {modes.sql_name(strongest.mode)} on {strongest.relation} without "
            f"lock_timeout: queued behind any open transaction on it, it blocks "
            f"{modes.blocks(strongest.mode)} of everyone behind it",
            TIMEOUT,
        )
    ]


def not_null_without_default(s: Traced, ctx: Context) -> list[Hint]:
    found = []
    for fact in facts(s, "column"):
        if "not null" in fact.flags and "default" not in fact.flags:
            size = ctx.sizes.get(fact.table)
            fails = size is not None and size.rows > 0
            found.append(
                Hint(
                    "not-null-column-without-default",
                    "squawk adding-required-field",
                    f"adds {fact.detail} NOT NULL without a default to {ctx.size(fact.table)}"
                    + (": it fails on the target, whose rows have no value" if fails else ""),
                    "op.add_column(..., nullable=True), backfill it, then make it NOT NULL "
                    "through a validated check (see set-not-null); or give it a server_default",
                )
            )
    return found


def drop_index_not_concurrent(s: Traced, ctx: Context) -> list[Hint]:
    if not s.transactional:
        return []
    return [
        Hint(
            "drop-index-not-concurrent",
            "squawk require-concurrent-index-deletion",
            f"drops {fact.detail} holding ACCESS EXCLUSIVE on {fact.table}",
            "with op.get_context().autocommit_block(): "
            "op.drop_index(..., postgresql_concurrently=True)",
        )
        for fact in facts(s, "drop index")
    ]
