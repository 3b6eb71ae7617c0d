"""Starting an upgrade that blocks in its slow revision, as the interrupt tests need."""

from __future__ import annotations

import subprocess
import time

from tests.projects import ScratchProject
from tests.reliability import observe
from tests.reliability.chains import SLEEP_ENV, slow_statement

SLOW_SECONDS = 30


def start_blocked_upgrade(project: ScratchProject) -> subprocess.Popen[str]:
    """`inv db.upgrade`, returned once its slow revision is sleeping on the server."""
    project.env[SLEEP_ENV] = str(SLOW_SECONDS)
    try:
        proc = project.popen("db.upgrade")
    finally:
        del project.env[SLEEP_ENV]  # later runs of the same project do not sleep
    endpoint = project.settings().endpoint
    with observe.cursor(endpoint, "postgres") as cur:
        deadline = time.monotonic() + 120
        while not observe.running(cur, endpoint.database, slow_statement(SLOW_SECONDS)):
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = proc.communicate()
                raise AssertionError(f"the slow revision never ran:\n{out}\n{err}")
            time.sleep(0.02)
    return proc
