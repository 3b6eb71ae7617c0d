"""As root, nothing in the data directory is followed through a link.

The data directory belongs to the server account, so whoever controls that account can
plant links in it. dbtasks runs as root in CI: following such a link would let that account
read, overwrite or take over any file on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from dbtasks.console import Console
from dbtasks.errors import Refused
from dbtasks.health import probe
from dbtasks.settings import Settings
from dbtasks.stack.native import NativeStack
from tests.support import REPO, destroy, free_port, make_settings, settings_env

pytestmark = pytest.mark.integration

SECRET = "root-only-secret-4f1c9a"
INV = [sys.executable, "-m", "invoke"]


@pytest.fixture
def secret() -> Iterator[Path]:
    """A file only root can read, in a directory only root can enter."""
    home = Path(tempfile.mkdtemp(prefix="dbtasks-secret-"))
    path = home / "secret.txt"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    try:
        yield path
    finally:
        shutil.rmtree(home)


@pytest.fixture
def stopped(scratch: Path) -> Iterator[NativeStack]:
    """A project with an initialized, stopped cluster in `pgdata`."""
    shutil.copy(REPO / "tasks.py", scratch / "tasks.py")
    (scratch / "pyproject.toml").write_text('[tool.dbtasks]\nschema = "mindmirror"\n')
    stack = NativeStack(make_settings(scratch, DB_HEALTH_TIMEOUT=10))
    stack.up(Console())
    stack.down()
    try:
        yield stack
    finally:
        stop_quietly(stack.settings)


def stop_quietly(settings: Settings) -> None:
    """Teardown: drop planted links, then stop whatever still runs there."""
    data = settings.data_dir
    if data.is_dir() and not data.is_symlink():
        for entry in data.iterdir():
            if entry.is_symlink():
                entry.unlink()
    pidfile = data / "postmaster.pid"
    if pidfile.is_file() and not pidfile.is_symlink():
        NativeStack(settings).down()


def plant_link(stack: NativeStack, name: str, target: Path) -> Path:
    link = stack.settings.data_dir / name
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    return link


def assert_secret_intact(secret: Path) -> None:
    st = secret.lstat()
    assert secret.read_text() == SECRET + "\n"
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 0, 0o600)


def test_logs_refuses_a_linked_log(stopped: NativeStack, secret: Path) -> None:
    plant_link(stopped, "postgres.log", secret)
    with pytest.raises(Refused, match="symbolic link") as info:
        stopped.logs(50)
    assert SECRET not in info.value.render()
    assert "\n" not in info.value.render()


def test_logs_refuses_a_hard_linked_log(stopped: NativeStack, secret: Path) -> None:
    # With fs.protected_hardlinks=0 the server account can hard-link files it cannot read.
    log = stopped.settings.data_dir / "postgres.log"
    log.unlink()
    os.link(secret, log)
    try:
        with pytest.raises(Refused) as info:
            stopped.logs(50)
        assert SECRET not in info.value.render()
    finally:
        log.unlink()


def test_cli_logs_does_not_print_a_linked_file(stopped: NativeStack, secret: Path) -> None:
    plant_link(stopped, "postgres.log", secret)
    result = subprocess.run(
        [*INV, "stack.logs"],
        cwd=stopped.settings.project_root,
        env=settings_env(stopped.settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 4
    assert SECRET not in result.stdout + result.stderr
    assert "symbolic link" in result.stderr


def test_status_does_not_read_a_linked_pg_version(stopped: NativeStack, secret: Path) -> None:
    plant_link(stopped, "PG_VERSION", secret)
    with pytest.raises(Refused, match="symbolic link") as info:
        stopped.status()
    assert SECRET not in info.value.render()


def test_up_never_writes_through_a_planted_conf_link(stopped: NativeStack, secret: Path) -> None:
    link = plant_link(stopped, "dbtasks.conf", secret)
    failure: Exception | None = None
    try:
        stopped.up(Console())
    except Exception as exc:  # the file is checked first: that is what this test is about
        failure = exc
    assert_secret_intact(secret)
    assert failure is None
    assert not link.is_symlink()


def test_a_linked_pidfile_is_not_read(scratch: Path, secret: Path) -> None:
    other = NativeStack(make_settings(scratch / "b"))
    other.up(Console())
    (scratch / "a").mkdir()
    stack = NativeStack(make_settings(scratch / "a", DB_HEALTH_TIMEOUT=10))
    try:
        stack.up(Console())
        stack.down()
        other_pid = (other.settings.data_dir / "postmaster.pid").read_text().split()[0]
        secret.write_text(f"{other_pid}\n")
        plant_link(stack, "postmaster.pid", secret)
        for action in (stack.status, stack.down, lambda: stack.up(Console())):
            with pytest.raises(Refused, match="symbolic link"):
                action()
        assert probe(other.settings.endpoint).server_version
        assert (other.settings.data_dir / "postmaster.pid").read_text().split()[0] == other_pid
    finally:
        stop_quietly(stack.settings)
        other.down()


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-root-dir", "dangling"])
def test_a_linked_data_dir_is_neither_chowned_nor_filled(scratch: Path, dangling: bool) -> None:
    target = Path(tempfile.mkdtemp(prefix="dbtasks-target-"))
    if dangling:
        target.rmdir()
    (scratch / "pgdata").symlink_to(target)
    stack = NativeStack(make_settings(scratch, DB_HEALTH_TIMEOUT=10))
    try:
        with pytest.raises(Refused, match="symbolic link") as info:
            stack.up(Console())
        assert "\n" not in info.value.render()
        if dangling:
            assert not target.exists()
        else:
            st = target.stat()
            assert (st.st_uid, st.st_mode & 0o777, os.listdir(target)) == (0, 0o700, [])
    finally:
        if (target / "postmaster.pid").is_file():
            NativeStack(make_settings(scratch, DB_DATA_DIR=str(target))).down()
        shutil.rmtree(target, ignore_errors=True)


def server_settings(settings: Settings) -> dict[str, tuple[str, str]]:
    conn = psycopg2.connect(**settings.endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name, setting, source FROM pg_settings")
            return {name: (setting, source) for name, setting, source in cur.fetchall()}
    finally:
        conn.close()


def listening_addresses(port: int) -> set[str]:
    """The local addresses (kernel hex) with a TCP socket listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def assert_command_line_wins(settings: Settings) -> None:
    values = server_settings(settings)
    port = settings.endpoint.port
    expected = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": "",
        "fsync": "off",
        "synchronous_commit": "on",
        "full_page_writes": "off",
    }
    for name, setting in expected.items():
        assert values[name] == (setting, "command line"), name
    assert listening_addresses(port) == {"0100007F"}


def test_no_config_file_is_written_into_the_data_dir(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    stack.up(Console())
    try:
        data = stack.settings.data_dir
        assert not (data / "dbtasks.conf").exists()
        assert "dbtasks" not in (data / "postgresql.conf").read_text()
        assert_command_line_wins(stack.settings)
    finally:
        destroy(stack)


def test_alter_system_cannot_widen_where_the_server_listens(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch, DB_HEALTH_TIMEOUT=10))
    stack.up(Console())
    elsewhere = free_port()
    try:
        conn = psycopg2.connect(**stack.settings.endpoint.connect_kwargs())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ALTER SYSTEM SET listen_addresses = '*'")
            cur.execute(f"ALTER SYSTEM SET port = {elsewhere}")
            cur.execute("ALTER SYSTEM SET unix_socket_directories = '/tmp'")
            cur.execute("ALTER SYSTEM SET fsync = on")
        conn.close()
        stack.down()
        stack.up(Console())
        assert_command_line_wins(stack.settings)
        assert listening_addresses(elsewhere) == set()
    finally:
        stop_quietly(stack.settings)
