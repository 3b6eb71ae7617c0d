"""The bounded executor of a fleet upgrade: worker processes, per-server caps, canaries
first, a failure budget, the ledger after every member, and Ctrl-C.

Processes, not threads: Alembic keeps its migration context in module globals, so two
revisions cannot run in one interpreter at once. Each member's upgrade is the ordinary
flow, under its own advisory lock (keyed on its database and schema), so two machines
running overlapping shards never apply a revision twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbtasks.errors import ConfigError
from dbtasks.fleet import worker
from dbtasks.fleet.worker import Outcome

if TYPE_CHECKING:
    from dbtasks.fleet.members import Member

FAILED = ("failed", "interrupted")


@dataclass(frozen=True)
class Limits:
    parallel: int = 4
    per_host: int = 0  # 0: as many as `parallel`
    canary: int = 0
    max_failures: str = "0"  # N members, or P% of those run


@dataclass(frozen=True)
class Job:
    member: Member
    before: tuple[str, ...]


def failure_budget(text: str, total: int) -> int:
    """How many failures a run tolerates before it starts no new member."""
    raw = text.strip()
    percent = raw.endswith("%")
    number = raw.removesuffix("%").strip()
    if not number.isdigit() or (percent and int(number) > 100):
        raise ConfigError(f"--max-failures {text!r} must be a count (3) or a share (10%)")
    return total * int(number) // 100 if percent else int(number)


def run(
    jobs: Sequence[Job], revision: str, limits: Limits, report: Callable[[Outcome], None]
) -> tuple[list[Outcome], bool]:
    """Upgrade every job's member; `report` hears each outcome as it comes. Returns the
    outcomes and whether the run stopped early (failures or Ctrl-C)."""
    budget = failure_budget(limits.max_failures, len(jobs))
    canaries, rest = list(jobs[: limits.canary]), list(jobs[limits.canary :])
    with _pool(min(limits.parallel, len(jobs))) as pool:
        batch = _Batch(pool, revision, limits, report)
        outcomes = batch.drain(canaries, budget=0)  # any failing canary stops the run
        if not batch.stopped:
            outcomes += batch.drain(rest, budget)
    return outcomes, batch.stopped


def _pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    from dbtasks.fleet.worker import idle

    # fork: a worker starts with the parent's imports (Alembic, SQLAlchemy) already done.
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods:
        worker.preload()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max(1, workers), mp_context=context, initializer=idle)


class _Batch:
    """Submits members as capacity allows, and stops starting them when told to."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        revision: str,
        limits: Limits,
        report: Callable[[Outcome], None],
    ) -> None:
        self.pool, self.revision, self.report = pool, revision, report
        self.parallel = max(1, limits.parallel)
        self.per_host = limits.per_host or self.parallel
        self.stopped = False

    def drain(self, jobs: list[Job], budget: int) -> list[Outcome]:
        running: dict[Future[Outcome], Job]
        waiting, running = list(jobs), {}
        outcomes: list[Outcome] = []
        try:
            while waiting or running:
                if not self.stopped:
                    self._fill(waiting, running)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    outcomes.append(self._finish(future, running.pop(future)))
                if sum(o.state in FAILED for o in outcomes) > budget:
                    self.stopped = True
        except KeyboardInterrupt:
            self.stopped = True
            outcomes += self._interrupt(running)
        return outcomes

    def _fill(self, waiting: list[Job], running: dict[Future[Outcome], Job]) -> None:
        busy = Counter(job.member.server for job in running.values())
        for job in list(waiting):
            if len(running) >= self.parallel:
                return
            if busy[job.member.server] >= self.per_host:
                continue
            waiting.remove(job)
            busy[job.member.server] += 1
            member = job.member
            future = self.pool.submit(
                worker.upgrade, member.name, member.settings, self.revision, job.before
            )
            running[future] = job

    def _finish(self, future: Future[Outcome], job: Job) -> Outcome:
        try:
            outcome = future.result()
        except Exception as exc:  # the worker itself died (killed, out of memory)
            outcome = Outcome(job.member.name, "failed", error=f"worker stopped: {exc}")
        self.report(outcome)
        return outcome

    def _interrupt(self, running: dict[Future[Outcome], Job]) -> list[Outcome]:
        """Ctrl-C: running members get it too (their statements are cancelled); wait
        for their reports, start nothing new."""
        for process in list(getattr(self.pool, "_processes", {}).values()):
            if process.pid and process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGINT)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            done, _ = wait(running)
            return [self._finish(future, running[future]) for future in done]
        finally:
            signal.signal(signal.SIGINT, previous)
