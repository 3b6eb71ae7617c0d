"""kill -9 of `inv db.upgrade` at random moments leaves a database a rerun can finish.

Each revision commits in one transaction with its version-table row and its timing row,
so wherever the process dies, the version table, the tables and both logs must agree,
the advisory lock must go with the dead session, and a rerun applies the rest once.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project
from tests.reliability import observe
from tests.reliability.chains import write_timed_chain
from tests.reliability.outcome import Outcome, assert_clean

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

TRIALS = 10
REVISIONS = 15
PAUSE = 0.05  # each revision sleeps this long, so a run spans a second or so
SEED = int(os.environ.get("RELIABILITY_SEED", "0")) or random.SystemRandom().randrange(1, 10**6)


@dataclass(frozen=True)
class Kill:
    """When a trial's SIGKILL lands: `delay` seconds after the process started, or after
    its first revision began (`during_run`)."""

    delay: float
    during_run: bool

    @classmethod
    def draw(cls, rng: random.Random) -> Kill:
        if rng.random() < 0.2:  # start-up: imports, connecting, planning, taking the lock
            return cls(rng.uniform(0.0, 1.5), during_run=False)
        return cls(rng.uniform(0.0, REVISIONS * PAUSE * 1.3), during_run=True)


def _start_then_kill(project: ScratchProject, kill: Kill) -> None:
    proc = project.popen("db.upgrade")
    try:
        if kill.during_run:
            _wait_for_first_revision(project, proc)
        time.sleep(kill.delay)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=60)


def _wait_for_first_revision(project: ScratchProject, proc: subprocess.Popen[str]) -> None:
    endpoint = project.settings().endpoint
    with observe.cursor(endpoint, "postgres") as cur:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if observe.running(cur, endpoint.database, "pg_sleep("):
                return
            time.sleep(0.01)


def _trial(root: Path, cluster: Settings, kill: Kill) -> int:
    """One kill and its aftermath; returns how many revisions the killed run had applied."""
    project = make_project(root, cluster)
    chain = write_timed_chain(project.versions, REVISIONS, pause=PAUSE)
    _start_then_kill(project, kill)
    endpoint = project.settings().endpoint
    assert observe.locks_released(endpoint), "the killed run's advisory lock is still held"
    before = observe.assert_agrees(observe.read_state(endpoint), chain)
    rerun = Outcome.of(project.inv("db.upgrade"))
    assert_clean(rerun)
    assert rerun.code == 0, rerun.describe()
    applied_now = re.findall(r"applied (r\d{3}) ", rerun.stdout)
    assert applied_now == chain[len(before) :], rerun.describe()
    assert observe.assert_agrees(observe.read_state(endpoint), chain) == chain
    return len(before)


def test_kill_9_at_random_moments_leaves_a_consistent_resumable_database(
    tmp_path: Path, cluster: Settings
) -> None:
    rng = random.Random(SEED)
    print(f"kill -9 trials: seed {SEED} (rerun with RELIABILITY_SEED={SEED})")
    kills = [Kill.draw(rng) for _ in range(TRIALS)]
    # Two at a time: each trial has its own database, and the kill moments are found
    # from the server's own activity, so trials do not disturb each other.
    with ThreadPoolExecutor(max_workers=2) as pool:
        reached = list(
            pool.map(lambda n: _trial(tmp_path / f"trial{n}", cluster, kills[n]), range(TRIALS))
        )
    for number, (kill, applied) in enumerate(zip(kills, reached, strict=True)):
        print(f"  trial {number}: {kill} -> {applied}/{REVISIONS} applied when killed")
    # The trials must have cut some runs mid-history, or they proved nothing.
    assert any(0 < n < REVISIONS for n in reached), reached
