"""A plan as plain data: what the tracer saw, what the target holds, what it means."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any


class Risk(IntEnum):
    """How bad a statement (or revision) is on the target: `--fail-on` compares these."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Lock:
    """A lock a statement took on a relation that existed before its revision."""

    relation: str  # schema.name
    kind: str  # table, index, sequence, view
    mode: str  # as pg_locks names it: AccessExclusiveLock, ...
    observed: bool = True  # False: inferred from the statement (it ran outside a transaction)


@dataclass(frozen=True)
class Fact:
    """One change the catalog showed after a statement, on an object older than the revision."""

    kind: str  # rewrite, index, constraint, validate, not null, type, column, drop ..., rename
    table: str  # schema.name of the table concerned
    detail: str = ""  # what exactly: a column, a constraint's definition, an index's name
    flags: tuple[str, ...] = ()  # concurrent, unique, not valid, json, not null, default, ...


@dataclass(frozen=True)
class Hint:
    code: str  # our rule's name: no-lock-timeout, validated-constraint, ...
    refs: str  # the peers' names for it: "eugene E9, squawk require-timeout-settings"
    message: str  # what happens on the target, with the table and its size
    alternative: str  # the safe way, in Alembic terms


@dataclass
class Traced:
    """One statement as it ran on the scratch clone, and what it means on the target."""

    sql: str
    seconds: float
    transactional: bool
    lock_timeout: str  # the session's setting when it ran ("0": none)
    statement_timeout: str
    locks: list[Lock] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    after_exclusive: str | None = None  # a table held ACCESS EXCLUSIVE since an earlier statement
    reads: bool = False  # a revision's own SELECT (op.get_bind())
    line: int | None = None  # where it came from in the revision file (upgrade() or downgrade())
    hints: list[Hint] = field(default_factory=list)
    risk: Risk = Risk.NONE
    predicted: float | None = None  # seconds on the target, for O(size) work
    work: str = ""  # what it does under its lock: rewrite, scan, index build, rows, metadata
    # (seconds empty, seconds with generated rows, their rows, their heap bytes)
    calibration: tuple[float, float, int, int] | None = None

    @property
    def strongest(self) -> Lock | None:
        from dbtasks.plan.locks import strength

        return max(
            self.locks, key=lambda lock: (strength(lock.mode), lock.kind == "table"), default=None
        )

    def tables(self) -> list[str]:
        found = [lock.relation for lock in self.locks if lock.kind == "table"]
        found += [fact.table for fact in self.facts]
        return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Size:
    """A table of the target, from its catalog."""

    table: str
    rows: int  # reltuples (or the statistics' live rows when never analyzed)
    pages: int
    bytes: int  # pg_total_relation_size, or the pages of table, toast and indexes
    exact: bool = True  # False: the lock-free estimate from relpages


@dataclass(frozen=True)
class Loss:
    """What a downgrade lost of one table's generated rows on the scratch clone."""

    table: str
    rows: int  # rows that were there before and are gone
    columns: tuple[str, ...] = ()  # columns dropped (their values are gone)
    values: int = 0  # values lost in those columns

    def describe(self) -> str:
        parts = [f"{self.rows} row(s)"] if self.rows else []
        if self.columns:
            parts.append(f"column(s) {', '.join(self.columns)} ({self.values} value(s))")
        return f"{self.table}: {' and '.join(parts)}"


@dataclass
class Downgrade:
    shape: str  # present, empty (pass), raising, missing
    ran: bool = False  # it was run on the clone (with generated rows) and rolled back
    error: str | None = None  # why it failed there
    losses: list[Loss] = field(default_factory=list)
    note: str | None = None  # why it was not checked, or what could not be filled
    statements: list[Traced] = field(default_factory=list)

    @property
    def loses_data(self) -> bool:
        return any(loss.rows or loss.values for loss in self.losses)


@dataclass
class RevisionPlan:
    id: str
    message: str
    file: str
    statements: list[Traced] = field(default_factory=list)
    downgrade: Downgrade | None = None
    error: str | None = None  # it failed on the clone: it will fail on the target
    skipped: str | None = None  # not traced, and why (an earlier revision failed)
    risk: Risk = Risk.NONE
    revision_hints: list[Hint] = field(default_factory=list)  # about the revision as a whole

    @property
    def hints(self) -> list[Hint]:
        """Each once: later statements under the same lock repeat the same hint."""
        found = [*self.revision_hints, *(h for s in self.statements for h in s.hints)]
        return list(dict.fromkeys(found))


@dataclass
class Plan:
    target: str  # the masked URL
    current: tuple[str, ...]
    direction: str  # upgrade or downgrade
    clone: str  # how the scratch clone was made
    revisions: list[RevisionPlan] = field(default_factory=list)
    sizes: dict[str, Size] = field(default_factory=dict)
    live: list[dict[str, Any]] | None = None  # with --live: sessions in the way
    calibration: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def risk(self) -> Risk:
        return max((r.risk for r in self.revisions), default=Risk.NONE)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["risk"] = self.risk.label
        for revision, raw in zip(self.revisions, data["revisions"], strict=True):
            raw["risk"] = revision.risk.label
            for statement, row in zip(revision.statements, raw["statements"], strict=True):
                row["risk"] = statement.risk.label
        plain: dict[str, Any] = _plain(data)
        return plain


def _plain(value: Any) -> Any:
    """JSON-ready: risks as their names."""
    if isinstance(value, Risk):
        return value.label
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
