"""Ctrl-C in the middle of a revision: exit 130 at once, that revision rolled back."""

from __future__ import annotations

import signal
import time

import pytest

from tests.projects import ScratchProject
from tests.reliability import observe
from tests.reliability.chains import write_timed_chain
from tests.reliability.interrupt import start_blocked_upgrade
from tests.reliability.outcome import Outcome, assert_clean

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

RESPONSIVE = 2.0  # seconds from Ctrl-C to exit: the one timing the contract names


def test_sigint_mid_revision_rolls_it_back_and_releases_the_lock(
    project: ScratchProject,
) -> None:
    chain = write_timed_chain(project.versions, 3, slow_at=2)
    proc = start_blocked_upgrade(project)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    interrupted = Outcome(proc.returncode, out, err)

    assert_clean(interrupted)
    assert interrupted.code == 130, interrupted.describe()
    assert took < RESPONSIVE, f"exit took {took:.2f}s after SIGINT"
    assert "r002" in err and "rolled back" in err, interrupted.describe()
    endpoint = project.settings().endpoint
    assert observe.assert_agrees(observe.read_state(endpoint), chain) == ["r001"]
    assert observe.advisory_locks(endpoint) == 0

    again = Outcome.of(project.inv("db.upgrade"))
    assert_clean(again)
    assert again.code == 0, again.describe()
    assert "waiting for the migration lock" not in again.output
    assert observe.assert_agrees(observe.read_state(endpoint), chain) == chain


def test_sigint_during_an_endless_seed_exits_130_and_keeps_nothing(
    project: ScratchProject,
) -> None:
    write_timed_chain(project.versions, 1, slow_at=None)
    assert project.inv("db.upgrade").returncode == 0
    seeds = project.root / "seeds"
    seeds.mkdir()
    (seeds / "001_rows.sql").write_text(
        "CREATE TABLE seeded (id int);\nINSERT INTO seeded VALUES (1);\nSELECT pg_sleep(600);\n"
    )
    proc = project.popen("db.seed")
    endpoint = project.settings().endpoint
    with observe.cursor(endpoint, "postgres") as cur:
        deadline = time.monotonic() + 60
        while not observe.running(cur, endpoint.database, "pg_sleep(600)"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    interrupted = Outcome(proc.returncode, out, err)
    assert_clean(interrupted)
    assert interrupted.code == 130, interrupted.describe()
    assert "interrupted" in err and "rolled back" in err, interrupted.describe()
    with observe.cursor(endpoint) as cur:
        cur.execute("SELECT to_regclass('app.seeded')")
        assert cur.fetchone()[0] is None  # the whole seed was rolled back
