"""Plain functions over a Postgres data directory: pid file, version, options, log, port.

Every file in the data directory is read through `datadir`, which follows no links.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks import pg, shell
from dbtasks.errors import ConfigError, HealthError, Refused
from dbtasks.health import DB_MISSING, HealthReport, wait_healthy
from dbtasks.stack import datadir
from dbtasks.target import Endpoint

if TYPE_CHECKING:
    from dbtasks.grants import Grant

PIDFILE = "postmaster.pid"
_READY_EVERY = 0.005  # seconds between looks at the pid file while the server starts

# A disposable development cluster trades durability for speed: a crash of the machine
# (not of Postgres) can lose the last writes, in exchange for resets and test databases
# that do not wait on the disk. Commits still wait for their WAL to reach the operating
# system (synchronous_commit on, a write without a flush): a crash or kill of Postgres
# itself never loses a revision reported as applied. No Unix socket: socket paths break
# in deep directories.
_SERVER_SETTINGS = (
    ("listen_addresses", "127.0.0.1"),
    ("unix_socket_directories", "''"),
    ("fsync", "off"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "off"),
)


def server_options(port: int) -> str:
    """The postmaster's settings as `-c` options, for `pg_ctl -o`.

    Command-line settings beat every configuration file, postgresql.auto.conf (ALTER
    SYSTEM) included, so no superuser can move the server off 127.0.0.1 or the port; and
    nothing has to be written into the data directory. pg_ctl hands the string to /bin/sh,
    hence the quoted empty value.
    """
    return " ".join(
        f"-c {name}={value}" for name, value in (("port", str(port)), *_SERVER_SETTINGS)
    )


def data_version(data: Path) -> str | None:
    """The major version recorded in PG_VERSION, or None when there is no cluster."""
    try:
        text = datadir.read_in(data, "PG_VERSION")
    except NotADirectoryError:
        return None
    return text.strip() if text is not None else None


@dataclass(frozen=True)
class PidFile:
    """What postmaster.pid claims: the server's pid and (line 4) the port it listens on."""

    pid: int
    port: int | None


def read_pidfile(data: Path) -> PidFile | None:
    text = datadir.read_in(data, PIDFILE)
    lines = (text or "").splitlines()
    first = lines[0].strip() if lines else ""
    if not (first.isascii() and first.isdigit() and len(first) <= 10):
        return None
    pid = int(first)
    port = lines[3].strip() if len(lines) > 3 else ""
    # The server account writes this file: a port is at most five ASCII digits.
    valid = port.isascii() and port.isdigit() and len(port) <= 5
    return PidFile(pid, int(port) if valid else None)


def serves(pid: int, data: Path) -> bool:
    """Whether process `pid` is the server of `data`: the one rule for trusting a pid file.

    After a crash the pid can belong to anything, another cluster's postmaster included,
    and the server account can write any pid there. A postmaster works in its data
    directory, so its cwd names it; where that cannot be read, its `-D` argument must.
    """
    if pid <= 0:  # 0 and negative pids would signal whole process groups
        return False
    ours = os.path.realpath(data)
    try:
        return os.readlink(f"/proc/{pid}/cwd") == ours
    except OSError:
        pass
    args = _command_line(pid)
    return any(
        flag == "-D" and os.path.isabs(arg) and os.path.realpath(arg) == ours
        for flag, arg in itertools.pairwise(args)
    )


def _command_line(pid: int) -> list[str]:
    if Path("/proc/self").exists():
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            return []
    # No /proc (macOS): ps prints the arguments space-separated, good enough for a match.
    return shell.run(["ps", "-o", "command=", "-p", str(pid)]).stdout.split()


def running(data: Path) -> PidFile | None:
    """The pid file of the server running on `data`, or None (no file, or a stale one)."""
    info = read_pidfile(data)
    return info if info is not None and serves(info.pid, data) else None


def says_ready(data: Path) -> bool:
    """postmaster.pid of the server of `data` says "ready" (line 8): what `pg_ctl -w`
    waits for."""
    lines = (datadir.read_in(data, PIDFILE) or "").splitlines()
    return len(lines) > 7 and lines[7].strip() == "ready" and running(data) is not None


def started(
    data: Path, starter: subprocess.Popen[str], sleep: Callable[[float], None] = time.sleep
) -> tuple[int, str]:
    """Wait for `pg_ctl -w start` (`starter`, in a session of its own), or for its server
    to say it is ready, whichever comes first: pg_ctl reads the pid file every 0.1 s, so a
    server that is ready in 60 ms would be waited for until 100. pg_ctl's verdict stands
    for the rest (a failure, its own timeout): its exit code and stderr, or 0 and "" when
    the server was first.

    A pg_ctl that is not needed any more is ended at once (SIGKILL runs none of its
    handlers: its SIGINT handler stops the server it started; the server, in a session of
    its own, does not notice) and reaped, so no Ctrl-C after a reported start can reach
    it. A Ctrl-C while waiting is passed on as SIGINT, as the terminal passed it when
    pg_ctl shared it: pg_ctl stops the server it was starting."""
    try:
        while (code := starter.poll()) is None:
            if says_ready(data):
                starter.kill()
                starter.communicate()
                return 0, ""
            sleep(_READY_EVERY)
    except KeyboardInterrupt:
        starter.send_signal(signal.SIGINT)
        _end(starter)
        raise
    except BaseException:
        starter.kill()
        starter.wait()
        raise
    return code, starter.communicate()[1]


def _end(starter: subprocess.Popen[str], grace: float = 10.0) -> None:
    try:
        starter.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        starter.kill()
        starter.communicate()


def remove_stale_pidfile(data: Path) -> bool:
    """Remove postmaster.pid unless its process serves `data` (a crash, a reused pid)."""
    return running(data) is None and datadir.remove_in(data, PIDFILE)


@contextmanager
def startup_lock(data: Path) -> Iterator[None]:
    """An exclusive file lock beside the data directory, released when the block ends."""
    data.parent.mkdir(parents=True, exist_ok=True)
    lock = data.parent / f".{data.name}.lock"
    # The parent may be writable by others (a sticky /tmp, the server account's home): no
    # link is followed, and a planted FIFO neither blocks the open nor passes for a file.
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(lock, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads
            raise _not_a_lock_file(lock) from None
        raise datadir.link_error(lock, exc) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _not_a_lock_file(lock)
    with os.fdopen(fd, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _not_a_lock_file(lock: Path) -> Refused:
    return Refused(
        f"{lock} is not a plain file (a FIFO or device?)",
        "remove it: dbtasks keeps its start-up lock there",
    )


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


def tail(data: Path, name: str, lines: int) -> list[str] | None:
    """The last `lines` lines of a file in the data directory; None when there is none."""
    handle = datadir.open_text(data, name)
    if handle is None:
        return None
    with handle:
        return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]


def size(data: Path, name: str) -> int:
    try:
        fd = datadir.open_in(data, name)
    except FileNotFoundError:
        return 0
    try:
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def first_fatal(data: Path, name: str, offset: int) -> str | None:
    """The first FATAL line written to a log after `offset`, without its prefix."""
    handle = datadir.open_text(data, name)
    if handle is None:
        return None
    with handle:
        handle.seek(offset)
        for line in handle:
            if "FATAL:" in line:
                return line.split("FATAL:", 1)[1].strip()
    return None


def ensure_database(endpoint: Endpoint, timeout: float, grant: Grant) -> tuple[HealthReport, bool]:
    """Wait for a real query on the endpoint's database, creating it the first time; True
    when it was created now."""
    try:
        return wait_healthy(endpoint, timeout), False
    except HealthError as exc:
        if exc.reason != DB_MISSING:
            raise
    with pg.maintenance(endpoint) as cur:
        pg.create_database_if_missing(cur, endpoint.database, grant)
    return wait_healthy(endpoint, timeout), True
