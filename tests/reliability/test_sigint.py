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
