"""Plain functions over a Postgres data directory: pid file, version, config, log, port."""

from __future__ import annotations

import fcntl
import os
import pwd
import socket
import stat
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dbtasks import pg
from dbtasks.errors import ConfigError, HealthError
from dbtasks.health import DB_MISSING, HealthReport, wait_healthy
from dbtasks.urls import Endpoint

PIDFILE = "postmaster.pid"
MANAGED_CONF = "dbtasks.conf"
_INCLUDE = (
    "\n# Settings dbtasks manages (port, listen address) live here.\n"
    f"include_if_exists = '{MANAGED_CONF}'\n"
)

# A disposable development cluster trades durability for speed: a crash of the machine
# (not of Postgres) can lose the last writes, in exchange for resets and test databases
# that do not wait on the disk.
_MANAGED_TEMPLATE = """\
# Written by dbtasks on every start; put your own settings in postgresql.conf.
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
"""


def data_version(data: Path) -> str | None:
    """The major version recorded in PG_VERSION, or None when there is no cluster."""
    try:
        return (data / "PG_VERSION").read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _pidfile_pid(data: Path) -> int | None:
    try:
        first = (data / PIDFILE).read_text().splitlines()[0]
        return int(first.strip())
    except (FileNotFoundError, IndexError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    """A live process, not a zombie: a postmaster killed with -9 lingers as one."""
    proc = Path(f"/proc/{pid}/stat")
    if Path("/proc/self").exists():
        try:
            fields = proc.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            return False
        return fields[0] != "Z" and "postgres" in Path(f"/proc/{pid}/comm").read_text()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pid(data: Path) -> int | None:
    pid = _pidfile_pid(data)
    return pid if pid is not None and process_alive(pid) else None


def remove_stale_pidfile(data: Path) -> bool:
    """Remove postmaster.pid when its process is gone (after a crash); True if removed."""
    path = data / PIDFILE
    if path.exists() and running_pid(data) is None:
        path.unlink()
        return True
    return False


@contextmanager
def startup_lock(data: Path) -> Iterator[None]:
    """An exclusive file lock beside the data directory, released when the block ends."""
    data.parent.mkdir(parents=True, exist_ok=True)
    with (data.parent / f".{data.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Postgres sets SO_REUSEADDR too, so sockets in TIME_WAIT do not count as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_reachable(path: Path, user: pwd.struct_passwd) -> None:
    """Every ancestor of `path` must be searchable by `user`, or the server cannot start."""
    for ancestor in reversed(path.resolve().parents):
        st = ancestor.stat()
        if st.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid == user.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            raise ConfigError(
                f"DB_DATA_DIR={str(path)!r} is not reachable by user {user.pw_name!r} "
                f"({ancestor} is not searchable)",
                "set DB_DATA_DIR to a path outside it, e.g. under /tmp or /var/lib",
            )


def server_env() -> dict[str, str]:
    """The whole environment of initdb, pg_ctl and the server, bar the account's identity.

    Anything running as the server account can read it in /proc/PID/environ, so the
    caller's secrets (DB_PASS, DATABASE_URL, cloud keys) stay out; a C locale keeps the
    cluster independent of the caller's. `shell.run` adds HOME, USER and LOGNAME.
    """
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C", "LC_ALL": "C"}
    if "TZ" in os.environ:
        env["TZ"] = os.environ["TZ"]
    return env


def include_managed_conf(data: Path) -> None:
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(_INCLUDE)


def write_managed_conf(data: Path, port: int, user: str | None) -> None:
    path = data / MANAGED_CONF
    path.write_text(_MANAGED_TEMPLATE.format(port=port), encoding="utf-8")
    if user and os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def tail(path: Path, lines: int) -> list[str]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]


def first_fatal(log: Path, offset: int) -> str | None:
    """The first FATAL line written to the log after `offset`, without its prefix."""
    if not log.exists():
        return None
    with log.open(encoding="utf-8", errors="replace") as handle:
        handle.seek(offset)
        for line in handle:
            if "FATAL:" in line:
                return line.split("FATAL:", 1)[1].strip()
    return None


BASELINE = Path(__file__).with_name("supabase_baseline.sql")


def install_baseline(endpoint: Endpoint) -> bool:
    """Install the Supabase baseline in template1 unless it is there; True if installed.

    Databases created afterwards (DB_NAME, test and snapshot databases) inherit it.
    """
    with pg.session(endpoint, "template1") as cur:
        cur.execute("SELECT to_regprocedure('auth.jwt()') IS NOT NULL")
        row = cur.fetchone()
        if row and row[0]:
            return False
        cur.execute(BASELINE.read_text(encoding="utf-8"))
        return True


def ensure_database(endpoint: Endpoint, timeout: float) -> HealthReport:
    """Wait for a real query on the endpoint's database, creating it the first time."""
    try:
        return wait_healthy(endpoint, timeout)
    except HealthError as exc:
        if exc.reason != DB_MISSING:
            raise
    with pg.maintenance(endpoint) as cur:
        pg.create_database_if_missing(cur, endpoint.database)
    return wait_healthy(endpoint, timeout)
