"""A pid in postmaster.pid counts only when that process serves this data directory.

After a crash the pid in a stale postmaster.pid can be reused by any process, another
cluster's postmaster included; whoever controls the server account can also write any pid
there. dbtasks must then call the file stale and signal nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dbtasks.console import Console
from dbtasks.health import probe
from dbtasks.stack.native import NativeStack
from tests.support import make_settings, scratch_dir

pytestmark = pytest.mark.integration


@dataclass
class Pair:
    mine: NativeStack  # initialized and stopped
    other: NativeStack  # running

    @property
    def other_pid(self) -> int:
        return int((self.other.settings.data_dir / "postmaster.pid").read_text().split()[0])

    def plant(self, pid: int) -> None:
        """A stale pid file for `mine` whose pid now belongs to someone else."""
        data = self.mine.settings.data_dir
        lines = [str(pid), str(data), "1700000000", str(self.mine.settings.endpoint.port)]
        path = data / "postmaster.pid"
        path.write_text("\n".join(lines) + "\n")
        owner = data.stat()
        os.chown(path, owner.st_uid, owner.st_gid)

    def assert_other_untouched(self, pid: int) -> None:
        assert self.other_pid == pid
        assert probe(self.other.settings.endpoint).server_version


@pytest.fixture(scope="module")
def two_clusters() -> Iterator[Pair]:
    with scratch_dir("pids") as root:
        (root / "a").mkdir()
        mine = NativeStack(make_settings(root / "a", DB_HEALTH_TIMEOUT=10))
        other = NativeStack(make_settings(root / "b"))
        mine.up(Console())
        mine.down()
        other.up(Console())
        try:
            yield Pair(mine, other)
        finally:
            for stack in (mine, other):
                stack.down()


@pytest.fixture
def pair(two_clusters: Pair) -> Iterator[Pair]:
    if not (two_clusters.other.settings.data_dir / "postmaster.pid").exists():
        two_clusters.other.up(Console())  # an earlier failure may have stopped it
    yield two_clusters
    two_clusters.mine.down()
    (two_clusters.mine.settings.data_dir / "postmaster.pid").unlink(missing_ok=True)


def test_down_signals_nothing_when_the_pid_is_another_clusters(pair: Pair) -> None:
    pid = pair.other_pid
    pair.plant(pid)
    message = pair.mine.down()
    assert "stale" in message
    assert str(pid) in message
    pair.assert_other_untouched(pid)


def test_status_calls_another_clusters_pid_stale(pair: Pair) -> None:
    pid = pair.other_pid
    pair.plant(pid)
    status = pair.mine.status()
    assert status.running is False
    assert status.details["pid"] is None
    assert "stale" in status.details["problem"]
    pair.assert_other_untouched(pid)


def test_up_starts_its_own_server_and_leaves_the_other_alone(pair: Pair) -> None:
    pid = pair.other_pid
    pair.plant(pid)
    assert pair.mine.up(Console()).changed
    assert probe(pair.mine.settings.endpoint).server_version
    mine = int((pair.mine.settings.data_dir / "postmaster.pid").read_text().split()[0])
    assert mine != pid
    pair.assert_other_untouched(pid)


@pytest.fixture
def impostor(pair: Pair) -> Iterator[subprocess.Popen[bytes]]:
    """A process of the server account whose name is `postgres`, but that serves nothing."""
    exe = pair.mine.settings.data_dir.parent / "postgres"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", exe)
    exe.chmod(0o755)
    proc = subprocess.Popen([str(exe), "300"], user=pair.mine.settings.native_user, cwd="/")
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        exe.unlink()


def test_a_process_named_postgres_is_not_our_server(
    pair: Pair, impostor: subprocess.Popen[bytes]
) -> None:
    pair.plant(impostor.pid)
    assert "stale" in pair.mine.down()
    assert pair.mine.status().running is False
    assert impostor.poll() is None
