"""What goes wrong with a real engine: one line saying what to do, and exit 1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.docker.conftest import ENGINE_SCRIPT, ComposeProject

pytestmark = pytest.mark.docker
OUR_DOCKERD = Path("/run/dbtasks-dockerd.pid")  # written by .ci/docker-engine
DOCKERD = Path("/var/run/docker.pid")  # written by dockerd itself


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_a_taken_port_is_named_before_anything_is_created(small: ComposeProject) -> None:
    port = small.scratch.settings().endpoint.port
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        line = one_line_failure(small.inv("stack.up"))
    assert f"port {port}" in line and "DB_PORT" in line
    assert small.leftovers() == []


def test_a_changed_password_says_the_volume_keeps_the_first(small: ComposeProject) -> None:
    assert small.inv("stack.up").returncode == 0
    other = "an0ther: p@ss #2"
    line = one_line_failure(small.inv("stack.up", DB_PASS=other))
    assert "DB_PASS" in line and "--destroy" in line and other not in line
    # Back to the first password: compose recreates the container and it answers again.
    assert small.inv("stack.up").returncode == 0
    assert small.query("SELECT 1") == [(1,)]


def stoppable_engine() -> int | None:
    """dockerd's pid if .ci/docker-engine started it, so that it can start it again."""
    try:
        ours, running = int(OUR_DOCKERD.read_text()), int(DOCKERD.read_text())
    except (OSError, ValueError):
        return None
    return ours if ours == running else None


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state == "Z"  # exited; its parent has not reaped it


@contextmanager
def engine_stopped(pid: int) -> Iterator[None]:
    """dockerd stopped for the block, then started again by .ci/docker-engine."""
    signal_sent = False
    try:
        os.kill(pid, signal.SIGTERM)
        signal_sent = True
        while not gone(pid):
            time.sleep(0.2)
        yield
    finally:
        if signal_sent:
            restart = subprocess.run(
                [str(ENGINE_SCRIPT), "--engine-only"], capture_output=True, text=True
            )
            assert restart.returncode == 0, restart.stderr


def test_an_engine_stopped_midway_is_named_and_the_stack_survives_it(
    small: ComposeProject,
) -> None:
    pid = stoppable_engine()
    if pid is None:
        pytest.skip("the engine was not started by .ci/docker-engine: not stopping it")
    assert small.inv("stack.up").returncode == 0
    small.query("CREATE TABLE public.survivor (id int)")
    with engine_stopped(pid):
        for command in (("stack.status",), ("stack.up",), ("db.upgrade",), ("stack.down",)):
            line = one_line_failure(small.inv(*command))
            assert "Docker engine is not running" in line and "start Docker" in line
    # `restart: unless-stopped` brings the container back with the engine.
    assert small.inv("stack.up").returncode == 0
    assert small.query("SELECT to_regclass('public.survivor') IS NOT NULL") == [(True,)]
