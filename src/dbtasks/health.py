"""Health: a real connection with the configured credentials and a `SELECT 1`.

An open port is not health. The wait loop takes its clock and sleep as arguments so tests
never sleep, and it gives up at once on failures that waiting cannot fix (wrong password,
missing database, unknown host).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks import log
from dbtasks.errors import ConfigError, HealthError, last_line
from dbtasks.target import Endpoint

if TYPE_CHECKING:
    from dbtasks.settings import Settings

REFUSED = "connection refused"
AUTH_FAILED = "authentication failed"
DB_MISSING = "database missing"
HOST_UNKNOWN = "host not found"
TIMED_OUT = "timed out"
STARTING = "server starting"
SSL_REQUIRED = "SSL mismatch"
BAD_OPTION = "bad connection option"

# Substrings of libpq / server messages, in the order they are checked. psycopg2 gives a
# connection failure no SQLSTATE (the server's FATAL arrives before there is a session,
# and libpq reports only CONNECTION_BAD), so its words are all there is to go on; they are
# English for libpq itself and for servers in the C locale, as dbtasks' own are.
_REASONS = (
    ("password authentication failed", AUTH_FAILED),
    ("no password supplied", AUTH_FAILED),
    ("authentication method requirement", AUTH_FAILED),
    ("server requested", AUTH_FAILED),
    ("no pg_hba.conf entry", AUTH_FAILED),
    ('role "', AUTH_FAILED),
    ("does not exist", DB_MISSING),
    ("could not translate host name", HOST_UNKNOWN),
    ("Name or service not known", HOST_UNKNOWN),
    ("the database system is", STARTING),
    ("SSL", SSL_REQUIRED),
    ("Connection refused", REFUSED),
    ("timeout expired", TIMED_OUT),
)
_OPTION_NAMED = re.compile(r'for connection option "(\w+)"')
_VALUE_NAMED = re.compile(r"invalid (\w+) value")
_BAD_OPTION = re.compile(r"\binvalid (?:[\w ]+ value|connection option)")
logger = logging.getLogger("dbtasks.health")
PERMANENT = frozenset({AUTH_FAILED, DB_MISSING, HOST_UNKNOWN, SSL_REQUIRED})


@dataclass(frozen=True)
class HealthReport:
    server_version: str
    connect_ms: float
    latency_ms: float


def classify(message: str) -> str:
    """Map a connection error message onto one of the reasons above."""
    # libpq rejects an option's value before it connects: 'invalid sslmode value: "x"',
    # 'invalid integer value "x" for connection option "connect_timeout"'.
    if _BAD_OPTION.search(message):
        return BAD_OPTION
    for needle, reason in _REASONS:
        if needle in message:
            return reason
    return REFUSED if "could not connect" in message else TIMED_OUT


@dataclass
class _Spare:
    """A healthy probe's connection, kept for the command's own first connection."""

    endpoint: Endpoint
    conn: Any
    pid: int
    until: float


# Every command probes its database before it works on it, then opens its own connection:
# handing the probe's connection over saves a connection (authentication included) per
# command. Only within one command (the task boundary discards it), one process (a fork
# closes it first) and one second, and only after a round trip shows it alive.
_spare: _Spare | None = None
_SPARE_SECONDS = 1.0


def discard_spare() -> None:
    """Close the kept connection, if any (end of a command, before a fork)."""
    global _spare
    spare, _spare = _spare, None
    if spare is not None and spare.pid == os.getpid():
        spare.conn.close()


os.register_at_fork(before=discard_spare)


def release(database: str) -> None:
    """Close the kept connection if it is on `database` (about to be dropped or cloned)."""
    if _spare is not None and _spare.endpoint.database == database:
        discard_spare()


def _keep(endpoint: Endpoint, conn: Any) -> None:
    global _spare
    discard_spare()
    conn.rollback()
    _spare = _Spare(endpoint, conn, os.getpid(), time.monotonic() + _SPARE_SECONDS)


def _take(endpoint: Endpoint, application: str) -> Any:
    """The kept connection when it is to this endpoint, fresh and alive, named anew."""
    import psycopg2

    global _spare
    spare, _spare = _spare, None
    if spare is None or spare.pid != os.getpid():
        return None
    if spare.endpoint != endpoint or time.monotonic() > spare.until:
        spare.conn.close()
        return None
    try:
        with spare.conn.cursor() as cur:
            cur.execute("SELECT set_config('application_name', %s, false)", (application,))
        spare.conn.commit()
    except psycopg2.Error:
        spare.conn.close()
        return None
    return spare.conn


def connect(endpoint: Endpoint, application: str = "dbtasks", connect_timeout: float = 5.0) -> Any:
    """A connection to the endpoint, or the reason there is none as a HealthError (a bad
    connection option as bad input): what every command's first connection is."""

    kept = _take(endpoint, application)
    return kept if kept is not None else _fresh(endpoint, application, connect_timeout)


def _fresh(endpoint: Endpoint, application: str, connect_timeout: float) -> Any:
    import psycopg2

    from dbtasks import pg

    try:
        return pg.connect(endpoint, application=application, connect_timeout=connect_timeout)
    except psycopg2.OperationalError as exc:
        reason = classify(str(exc))
        if reason == BAD_OPTION:  # a setting to fix, not a server to start
            raise _bad_option(endpoint, str(exc)) from None
        error = _error(endpoint, reason, str(exc))
        log.event(logger, "health.failed", error.message, logging.WARNING, reason=error.reason)
        raise error from None


def probe(endpoint: Endpoint, connect_timeout: float = 5.0) -> HealthReport:
    """One attempt: connect, `SELECT 1`, read the server version."""
    started = time.perf_counter()
    conn = _fresh(endpoint, "dbtasks health", connect_timeout)
    try:
        connected = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
            latency = time.perf_counter() - connected
            cur.execute("SHOW server_version")
            row = cur.fetchone()
    except BaseException:
        conn.close()
        raise
    _keep(endpoint, conn)
    version = str(row[0]).split(" ")[0] if row else "unknown"
    report = HealthReport(version, (connected - started) * 1000, latency * 1000)
    log.event(
        logger,
        "health.probe",
        f"healthy: PostgreSQL {version}",
        connect_ms=round(report.connect_ms, 2),
        latency_ms=round(report.latency_ms, 2),
    )
    return report


def wait_healthy(
    endpoint: Endpoint,
    timeout: float,
    *,
    interval: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    attempt: Callable[[Endpoint, float], HealthReport] = probe,
) -> HealthReport:
    """Probe until healthy, a permanent failure, or `timeout` seconds have passed."""
    deadline = clock() + timeout
    while True:
        remaining = deadline - clock()
        try:
            return attempt(endpoint, min(5.0, max(remaining, 1.0)))
        except HealthError as exc:
            if exc.reason in PERMANENT:
                raise
            reason = REFUSED if exc.reason == REFUSED else TIMED_OUT
        if clock() + interval > deadline:
            raise _error(endpoint, reason, f"no answer within {timeout:g}s") from None
        sleep(interval)


def _bad_option(endpoint: Endpoint, detail: str) -> ConfigError:
    # libpq quotes the value, which may be anything pasted there: name only the option.
    named = _OPTION_NAMED.search(detail) or _VALUE_NAMED.search(detail)
    option = named.group(1) if named else "?"
    # DB_* keys carry no options: libpq then read it from its own PG* environment.
    where = "DATABASE_URL" if endpoint.source == "DATABASE_URL" else "a PG* environment variable"
    return ConfigError(
        f"{where} gives the connection option {option} a value libpq rejects",
        "see the PostgreSQL documentation of libpq's connection parameters",
    )


def _error(endpoint: Endpoint, reason: str, detail: str) -> HealthError:
    where = endpoint.where
    names = _settings_named(endpoint)
    if reason == AUTH_FAILED:
        return HealthError(
            f"authentication failed for user {endpoint.user!r} at {where}",
            reason,
            f"check {names['credentials']}",
        )
    if reason == DB_MISSING:
        return HealthError(
            f"database {endpoint.database!r} does not exist at {where}",
            reason,
            f"run `inv stack.up` (native creates it) or check {names['database']}",
        )
    if reason == HOST_UNKNOWN:
        return HealthError(f"host {endpoint.host!r} not found", reason, f"check {names['host']}")
    if reason == SSL_REQUIRED:
        return HealthError(
            f"{where} and this client disagree about SSL ({last_line(detail, reason)})",
            reason,
            f"set sslmode in {names['options']}",
        )
    return HealthError(
        f"cannot reach {where}: {reason} ({last_line(detail, reason)})",
        reason,
        f"run `inv stack.up`, or check {names['host']}",
    )


def _settings_named(endpoint: Endpoint) -> dict[str, str]:
    """The settings a hint should point at: the ones that actually named the target."""
    if endpoint.source == "DATABASE_URL":
        return dict.fromkeys(("credentials", "database", "host", "options"), "DATABASE_URL")
    return {
        "credentials": "DB_USER and DB_PASS",
        "database": "DB_NAME",
        "host": "DB_HOST and DB_PORT",
        "options": "DATABASE_URL (e.g. ?sslmode=require)",
    }


def auth_hint(settings: Settings) -> str:
    """What to check after a refused password: where the one used came from, the password
    a dbtasks cluster was made with, and whether the port is that cluster's at all."""
    from dbtasks import passwords
    from dbtasks.stack import capabilities_of, cluster

    ep = settings.endpoint
    source = settings.sources.get("password", "default")
    if ep.source == "DATABASE_URL":
        used = f"the password in DATABASE_URL (from {settings.sources.get('database_url')})"
    elif source == "default":
        used = "the generated password in .dbtasks/password"
    else:
        used = f"DB_PASS (from {source})"
    notes = [f"check {used}"]
    caps = capabilities_of(settings.backend)
    if caps.local_cluster and cluster.running(settings.data_dir) is None:
        notes.append(
            f"port {ep.port} is not this project's cluster (DB_DATA_DIR={settings.data_dir} "
            "is not running): another project's server answers there"
        )
    elif caps.owns_server and source != "default":
        kept = passwords.password_file(settings.project_root)
        if kept.is_file():
            notes.append(
                f"this project's cluster may have been made with the password in {kept} "
                "(`inv stack.status --show-password`); unset DB_PASS to use it"
            )
    return "; ".join(notes)
