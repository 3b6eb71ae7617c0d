"""`cluster.started`: the server's own "ready" ends the wait before pg_ctl's next look,
and pg_ctl's verdict stands for everything else."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbtasks.stack import cluster


@pytest.fixture
def postmaster(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A data directory and a process working in it (what `serves` trusts)."""
    data = tmp_path / "pgdata"
    data.mkdir()
    process = subprocess.Popen(["sleep", "60"], cwd=data)
    yield data, process
    process.kill()
    process.wait()


def _pidfile(data: Path, pid: int, status: str) -> None:
    lines = [str(pid), str(data), "1700000000", "5432", "", "127.0.0.1", "  1  2", status]
    (data / cluster.PIDFILE).write_text("\n".join(lines) + "\n")


def _pg_ctl(script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_server_that_says_ready_ends_the_wait_and_pg_ctl_with_it(
    postmaster: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    """pg_ctl would look once more and end: it is ended and reaped at once (no process
    left behind, nothing a later Ctrl-C could reach), and the server goes on."""
    data, server = postmaster
    _pidfile(data, server.pid, "ready   ")
    starter = _pg_ctl("sleep 30")
    assert cluster.started(data, starter) == (0, "")
    assert starter.returncode == -9  # killed and reaped, not waited for 30 s
    assert server.poll() is None


def test_a_server_still_starting_waits_for_pg_ctl_and_its_verdict(
    postmaster: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    data, server = postmaster
    _pidfile(data, server.pid, "starting")
    assert cluster.started(data, _pg_ctl("echo could not start >&2; exit 1")) == (
        1,
        "could not start\n",
    )


def test_a_ready_pid_file_of_another_process_is_not_believed(tmp_path: Path) -> None:
    """A stale pid file saying ready (its pid serves another directory) proves nothing."""
    data = tmp_path / "pgdata"
    data.mkdir()
    elsewhere = subprocess.Popen(["sleep", "60"], cwd=tmp_path)
    try:
        _pidfile(data, elsewhere.pid, "ready")
        assert not cluster.says_ready(data)
        assert cluster.started(data, _pg_ctl("exit 0")) == (0, "")
    finally:
        elsewhere.kill()
        elsewhere.wait()


# A pg_ctl that answers SIGINT as pg_ctl does while it waits (it stops the server and
# ends): here, by ending with 7 once it is listening for it.
SIGINT_AWARE = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGINT, lambda *_: sys.exit(7))\n"
    "print('waiting', flush=True)\n"
    "time.sleep(30)\n"
)


def test_ctrl_c_while_waiting_is_passed_on_to_pg_ctl(tmp_path: Path) -> None:
    starter = subprocess.Popen(
        [sys.executable, "-c", SIGINT_AWARE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    assert starter.stdout is not None and starter.stdout.readline() == "waiting\n"

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cluster.started(tmp_path, starter, sleep=interrupt)
    assert starter.returncode == 7
