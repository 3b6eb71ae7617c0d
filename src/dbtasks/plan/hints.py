"""The hints: what a traced statement will do on the target, and the safe way in Alembic.

Each rule reads what the tracer saw of one statement (its locks, the facts the catalog
showed, the settings it ran under) and names the peers' rule it matches: eugene's E1-E15
(which trace on an empty database) and squawk's lock and rewrite rules (which read SQL).
Only objects older than the revision are ever the subject: what it made is nobody's yet.
SQL in the alternatives is written lower-case: it is advice to paste into a revision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbtasks.plan import locks as modes
from dbtasks.plan.model import Fact, Hint, Size, Traced

TIMEOUT = (
    "op.execute(\"set local lock_timeout = '2s'\") first in upgrade(), and retry the deploy "
    "if it times out"
)
CONCURRENT_INDEX = (
    "with op.get_context().autocommit_block(): op.create_index(..., postgresql_concurrently=True)"
)


@dataclass(frozen=True)
class Context:
    sizes: dict[str, Size]
    statements: list[Traced]

    def size(self, table: str) -> str:
        found = self.sizes.get(table)
        if found is None:
            return f"{table} (size unknown)"
        return f"{table} ({rows(found.rows)}, {human(found.bytes)})"


def rows(count: int) -> str:
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if count >= scale:
            return f"{count / scale:.1f}{unit} rows"
    return f"{count} rows"


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


Rule = Callable[[Traced, Context], list[Hint]]


def _facts(statement: Traced, kind: str) -> list[Fact]:
    return [f for f in statement.facts if f.kind == kind]


def validated_constraint(s: Traced, ctx: Context) -> list[Hint]:
    found = []
    for fact in _facts(s, "constraint"):
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
                f"while holding {_mode(s, fact.table)}",
                f"{create}(..., postgresql_not_valid=True), then in a later revision "
                f'op.execute("alter table {fact.table} validate constraint {_name(fact)}")',
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
        for fact in _facts(s, "not null")
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
        for fact in _facts(s, "column")
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
    for fact in _facts(s, "rewrite"):
        types = _facts(s, "type")
        columns = _facts(s, "column")
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
    for fact in _facts(s, "index"):
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
    return any(f.detail.split(" ")[0] == name for f in _facts(s, "constraint"))


def unique_or_exclusion(s: Traced, ctx: Context) -> list[Hint]:
    found = []
    for fact in _facts(s, "constraint"):
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
    for fact in _facts(s, "column"):
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
        for fact in _facts(s, "drop index")
    ]


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
        for fact in _facts(s, "rename")
    ]


def dropped(s: Traced, ctx: Context) -> list[Hint]:
    found = []
    for kind in ("drop column", "drop table"):
        for fact in _facts(s, kind):
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
    if s.transactional:
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
)


def for_statement(s: Traced, ctx: Context) -> list[Hint]:
    return [hint for rule in RULES for hint in rule(s, ctx)]


def foreign_keys_without_index(s: Traced, state_after: object) -> list[Hint]:
    """eugene E15: a new foreign key whose columns no index leads with."""
    from dbtasks.plan.observe import State

    assert isinstance(state_after, State)
    found = []
    for fact in _facts(s, "constraint"):
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


def _name(fact: Fact) -> str:
    return fact.detail.split(" ")[0]


def _mode(s: Traced, table: str) -> str:
    held = [lock for lock in s.locks if lock.relation == table]
    strongest = max(held, key=lambda lock: modes.strength(lock.mode), default=None)
    return modes.sql_name(strongest.mode) if strongest else "its lock"
