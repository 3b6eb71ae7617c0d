"""`db.status` and `db.upgrade` over many databases: `--all`, `--target`, `--group`.

    select targets → expand members → read the matrix (one read per database)
      status:  print it
      upgrade: members not at head → consent (production needs --yes) → ledger
               → bounded executor (canaries first) → report every member

A member that is already at head is never opened again, so a no-op upgrade over a
thousand tenants costs what their status costs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dbtasks.errors import CheckFailed, DbTasksError, ExitCode

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.fleet.execute import Job, Limits
    from dbtasks.fleet.ledger import Keeper, Ledger
    from dbtasks.fleet.matrix import Row
    from dbtasks.fleet.members import Member
    from dbtasks.fleet.worker import Outcome
    from dbtasks.migrations.graph import Graph
    from dbtasks.settings import Settings


@dataclass(frozen=True)
class Selection:
    every: bool = False
    names: tuple[str, ...] = ()
    group: str | None = None
    shard: str = ""

    @property
    def given(self) -> bool:
        return self.every or bool(self.names) or self.group is not None


@dataclass
class FleetFailed(DbTasksError):
    """Some members failed or were interrupted: the report names each."""

    message: str
    hint: str | None = None
    exit_code: ExitCode = field(default=ExitCode.FAILED)

    def __post_init__(self) -> None:
        super().__init__(self.message)


def parse_names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def members(settings: Settings, chosen: Selection, reading: bool) -> list[Member]:
    """The members the selection names. A read (`db.status --all`) sees the whole fleet,
    production included; a change leaves production out unless it is named."""
    from dbtasks.errors import ConfigError
    from dbtasks.fleet import select
    from dbtasks.fleet.members import expand
    from dbtasks.fleet.targets import load_targets

    targets = load_targets(settings.project_root)
    if not targets:
        raise ConfigError(
            "no targets are configured", "add [tool.dbtasks.targets.NAME] (see docs/fleet.md)"
        )
    shard = select.parse_shard(chosen.shard) if chosen.shard else None
    picked = select.select(
        targets,
        every=chosen.every,
        names=chosen.names,
        group=chosen.group,
        shard=shard,
        reads=reading,
    )
    return expand(picked, settings, os.environ)


def histories(found: Sequence[Member], console: Console) -> Callable[[Member], Graph]:
    """Each member's revision graph: the project's, or its target's own history's, each
    read once (before the matrix's threads start)."""
    graphs = {m.settings.alembic_config: m.settings for m in found}
    read = {config: graph_of(settings, console) for config, settings in graphs.items()}
    return lambda member: read[member.settings.alembic_config]


def graph_of(settings: Settings, console: Console) -> Graph:
    """A history's revision graph (from the cache when no file changed)."""
    from dbtasks import guard
    from dbtasks.guard import Intent
    from dbtasks.stack import get_stack
    from dbtasks.workflow import Work

    granted = guard.grant(settings, Intent.READ, "read")
    work = Work(settings, console, get_stack(settings), granted)
    with work.resources:
        return work.graph


def status(settings: Settings, console: Console, chosen: Selection, connections: int) -> list[Row]:
    from dbtasks.fleet.matrix import read_matrix

    found = members(settings, chosen, reading=True)
    console.secrets += [m.settings.endpoint.password for m in found]
    return read_matrix(found, histories(found, console), connections)


@dataclass
class FleetRun:
    """What a fleet upgrade did: the ledger of every member, and how many it meant to run."""

    book: Ledger
    outcomes: list[Outcome]
    planned: int

    def error(self) -> DbTasksError | KeyboardInterrupt | None:
        failed = [o.member for o in self.outcomes if o.state == "failed"]
        if any(o.state == "interrupted" for o in self.outcomes):
            return KeyboardInterrupt()
        left = self.planned - len(self.outcomes)
        if failed:
            return FleetFailed(
                f"{len(failed)} member(s) failed: {', '.join(failed)}"
                + (f"; {left} not started" if left else ""),
                "see the report above; `inv db.upgrade --resume` retries what is left",
            )
        if left:
            return CheckFailed(f"{left} member(s) not started")
        return None


def upgrade(
    settings: Settings,
    console: Console,
    chosen: Selection,
    revision: str,
    limits: Limits,
    *,
    yes: bool = False,
    resume: bool = False,
    create_missing: bool = False,
) -> FleetRun:
    """Upgrade every selected member not at `revision`, canaries first."""
    from dbtasks.fleet import ledger
    from dbtasks.fleet.select import require_consent

    root = settings.project_root
    keeper = ledger.Keeper.of(root)
    if resume:
        book = ledger.load(root)
        found = _resumed(settings, chosen, revision, book)
    else:
        found = members(settings, chosen, False)
    require_consent([m.target for m in found], yes)
    console.secrets += [m.settings.endpoint.password for m in found]
    made = _created(found, console, revision) if create_missing else set()
    # What was just made at head is not read again.
    pending = [m for m in found if m.name not in made]
    jobs = _jobs(pending, status_rows(pending, console, limits.parallel), revision)
    if resume:
        book.finished = None  # the earlier run's committed members stay in its ledger
    else:
        book = keeper.start(revision, [m.name for m in found])
    queued = {job.member.name for job in jobs}
    for member in found:
        if member.name not in queued:
            book.members[member.name] = ledger.Entry("at head")
    console.line(
        f"{len(found)} member(s): {len(jobs)} to upgrade, {len(found) - len(jobs)} at head"
    )
    outcomes = _run(jobs, revision, limits, console, book, keeper) if jobs else []
    book.finished = _now()
    keeper.save(book)
    return FleetRun(book, outcomes, len(jobs))


def _created(found: Sequence[Member], console: Console, revision: str) -> set[str]:
    """`--create-missing`: the tenants made, at head."""
    from dbtasks.errors import ConfigError
    from dbtasks.fleet.tenants import create_missing

    if revision not in ("heads", "head"):
        raise ConfigError(
            "--create-missing makes new tenants at head", "leave out -r, or create them first"
        )
    return set(create_missing(found, console))


def status_rows(found: Sequence[Member], console: Console, connections: int) -> list[Row]:
    """The matrix a change starts from; a member that does not answer stops it first."""
    from dbtasks.fleet.matrix import read_matrix

    rows = read_matrix(found, histories(found, console), connections)
    unreachable = [r for r in rows if r.error is not None]
    if unreachable:
        first = unreachable[0]
        raise FleetFailed(
            f"{len(unreachable)} member(s) do not answer, e.g. {first.member}: {first.error}",
            "fix their connection, or leave them out with --target/--group",
        )
    return rows


def _jobs(found: Sequence[Member], rows: Sequence[Row], revision: str) -> list[Job]:
    from dbtasks.fleet.execute import Job

    to_head = revision in ("heads", "head")
    return [
        Job(member, row.current)
        for member, row in zip(found, rows, strict=True)
        if not (to_head and row.at_head)
    ]


def _resumed(settings: Settings, chosen: Selection, revision: str, book: Ledger) -> list[Member]:
    """The members the last run did not finish, in its order."""
    from dbtasks.errors import ConfigError

    if revision not in ("heads", book.revision):
        raise ConfigError(f"the run to resume went to {book.revision}, not {revision}")
    left = book.left()
    if not left:
        raise ConfigError("the last fleet run finished: nothing to resume")
    scope = chosen if chosen.given else Selection(names=_targets_of(left))
    by_name = {m.name: m for m in members(settings, scope, False)}
    return [by_name[name] for name in left if name in by_name]


def _targets_of(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name.split("/", 1)[0] for name in names))


def _run(
    jobs: list[Job],
    revision: str,
    limits: Limits,
    console: Console,
    book: Ledger,
    keeper: Keeper,
) -> list[Outcome]:
    from dbtasks.fleet import execute, ledger

    def report(outcome: Outcome) -> None:
        book.members[outcome.member] = ledger.Entry(
            outcome.state, list(outcome.current), outcome.error, outcome.seconds
        )
        keeper.save(book)
        console.line(f"  {outcome.member}: {outcome.state} ({outcome.seconds:.2f} s)")

    _warm_imports()
    outcomes, _ = execute.run(jobs, revision, limits, report)
    return outcomes


def _warm_imports() -> None:
    """Imported once here, before the workers fork, so no worker imports them again."""
    from dbtasks import health
    from dbtasks.adapter import workspace  # noqa: F401
    from dbtasks.flows import migrate  # noqa: F401

    health.discard_spare()  # a connection must never be shared with a forked child


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()
