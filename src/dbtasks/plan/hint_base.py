"""What every hint rule reads and writes with: the context of a revision's statements,
the wording of sizes and rows, and the Alembic advice several rules give."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbtasks.plan import locks as modes
from dbtasks.plan.model import Fact, Hint, Size, Traced

LOCK_TIMEOUT = "2s"  # a metadata change needs less; the queue behind a wait stays short
TIMEOUT = (
    f"op.execute(\"set local lock_timeout = '{LOCK_TIMEOUT}'\") first in upgrade(), and retry "
    "the deploy if it times out"
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


def facts(statement: Traced, kind: str) -> list[Fact]:
    return [f for f in statement.facts if f.kind == kind]


def name_of(fact: Fact) -> str:
    return fact.detail.split(" ")[0]


def mode_of(s: Traced, table: str) -> str:
    held = [lock for lock in s.locks if lock.relation == table]
    strongest = max(held, key=lambda lock: modes.strength(lock.mode), default=None)
    return modes.sql_name(strongest.mode) if strongest else "its lock"
