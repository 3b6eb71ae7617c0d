"""A session-level advisory lock so parallel deploys never apply a revision twice.

The lock lives on a dedicated connection held for the whole run: a transaction-level lock
would end with the first revision's commit. While waiting, the holder is shown. Before each
revision commits, `Held.check` makes sure the lock is still held: if its connection died
(idle_session_timeout, a restart, pg_terminate_backend), another deploy may hold it now.
"""

from __future__ import annotations

import hashlib
import logging
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbtasks import log, pg
from dbtasks.errors import DbTasksError

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.settings import Settings

# First half of the two-int advisory key: "dbtasks" for every project, so the second half
# (database and schema) cannot collide with keys an application uses.
NAMESPACE = int.from_bytes(hashlib.blake2b(b"dbtasks", digest_size=4).digest()) & 0x7FFFFFFF
APPLICATION_NAME = "dbtasks migrate"
_CONFIRM_EVERY = 1.0  # seconds between round-trip checks of a silent lock session
logger = logging.getLogger("dbtasks.lock")

_HOLDER_SQL = """
SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.classid = %s::oid AND l.objid = %s::oid AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


_HELD_SQL = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
  AND classid = %s::oid AND objid = %s::oid AND objsubid = 2
"""


class LockTimeout(DbTasksError):
    """Another process kept the migration lock for longer than DB_LOCK_TIMEOUT."""


class LockLost(DbTasksError):
    """The session holding the migration lock ended while revisions were being applied."""


@dataclass
class Held:
    """The lock as held by this run; `cur` is None when DB_LOCK is off.

    A session-level lock is released only when its session ends (dbtasks never unlocks
    mid-run), so "still held" is "the session is alive". The server announces a session's
    end on its socket (pg_terminate_backend, a restart, idle_session_timeout), so every
    check first looks at the socket, for free; a round trip confirms what it sees, and at
    least once a second regardless, for a connection that died without a word.
    """

    cur: Any
    key: tuple[int, int]
    confirmed: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        """Raise LockLost unless this run still holds the lock."""
        if self.cur is None:
            return
        if not self._spoke() and time.monotonic() - self.confirmed < _CONFIRM_EVERY:
            return
        if not self._confirm():
            log.event(logger, "lock.lost", "the migration lock was lost", logging.ERROR)
            raise LockLost(
                "the migration lock was lost (its session ended); the revision in progress "
                "was rolled back and nothing more was applied",
                "check idle_session_timeout and server restarts, then run the command again",
            )
        self.confirmed = time.monotonic()

    def _spoke(self) -> bool:
        """The idle session's socket has something to read: the server ended it."""
        try:
            return bool(select.select([self.cur.connection], [], [], 0)[0])
        except (OSError, ValueError, AttributeError):
            return True

    def _confirm(self) -> bool:
        import psycopg2

        try:
            self.cur.execute(_HELD_SQL, self.key)
            return bool(self.cur.fetchone()[0])
        except (psycopg2.Error, AttributeError):
            return False


@dataclass(frozen=True)
class Holder:
    pid: int
    application: str
    since: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.application}, connected since {self.since})"


def lock_key(database: str, schema: str, namespace: int = NAMESPACE) -> tuple[int, int]:
    digest = hashlib.blake2b(f"{database}\0{schema}".encode(), digest_size=4).digest()
    return namespace, int.from_bytes(digest) & 0x7FFFFFFF


# Resets of one database wait for each other on the maintenance database (the database
# itself is dropped): a second reset waits, says so, then rebuilds on its own.
RESET_NAMESPACE = int.from_bytes(hashlib.blake2b(b"dbtasks reset", digest_size=4).digest()) & (
    0x7FFFFFFF
)


def reset_key(database: str) -> tuple[int, int]:
    return lock_key(database, "", RESET_NAMESPACE)


@contextmanager
def migration_lock(
    settings: Settings,
    console: Console,
    cur: Any = None,
    *,
    key: tuple[int, int] | None = None,
    name: str = "the migration lock",
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Held]:
    """Hold the schema's advisory lock (or `key`, called `name`) for the duration of the
    block, on the autocommit cursor `cur` (a session of its own when None)."""
    key = key or lock_key(settings.endpoint.database, settings.schema)
    if not settings.lock:
        console.warn(
            "DB_LOCK is off: no migration lock is taken; do not run migrations in parallel"
        )
        yield Held(None, key)
        return
    if cur is None:
        # Closing the session releases a session-level lock, whatever happens in the block.
        with pg.session(settings.endpoint, application=APPLICATION_NAME) as own:
            _acquire(own, key, settings.lock_timeout, console, name, clock, sleep)
            yield Held(own, key)
        log.event(logger, "lock.released", "migration lock released")
        return
    _acquire(cur, key, settings.lock_timeout, console, name, clock, sleep)
    try:
        yield Held(cur, key)
    finally:
        with suppress(Exception):  # a dead session has released it already
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        log.event(logger, "lock.released", "migration lock released")


def _acquire(
    cur: Any,
    key: tuple[int, int],
    timeout: float,
    console: Console,
    name: str,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    started = clock()
    deadline = started + timeout
    shown: Holder | None = None
    while True:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        if cur.fetchone()[0]:
            waited = round((clock() - started) * 1000, 1)
            log.event(logger, "lock.acquired", "migration lock acquired", waited_ms=waited)
            return
        holder = _holder(cur, key)
        if holder and holder != shown:
            console.step(f"waiting for {name} held by {holder.describe()}")
            log.event(logger, "lock.waiting", "waiting", holder=holder.describe())
            shown = holder
        if clock() >= deadline:
            who = holder.describe() if holder else "another session"
            raise LockTimeout(
                f"timed out after {timeout:g}s waiting for {name} held by {who}",
                "wait for it to finish, or raise DB_LOCK_TIMEOUT",
            )
        sleep(0.2)


def _holder(cur: Any, key: tuple[int, int]) -> Holder | None:
    cur.execute(_HOLDER_SQL, key)
    row = cur.fetchone()
    if row is None:
        return None
    return Holder(int(row[0]), str(row[1]), row[2].strftime("%H:%M:%S"))
