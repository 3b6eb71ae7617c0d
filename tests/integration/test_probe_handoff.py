"""A command's health probe hands its connection to the command's own work: one
connection per command instead of two, and never one that outlives its command, sits on
a database about to be cloned or dropped, or is dead."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg2
import pytest

from dbtasks import health, pg
from dbtasks.settings import Settings
from tests.projects import ScratchProject, write_chain
from tests.support import scratch_grant

pytestmark = pytest.mark.integration


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The database of every connection psycopg2 opens in this process."""
    opened: list[str] = []
    real = psycopg2.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(str(kwargs.get("dbname", "")))
        return real(*args, **kwargs)

    monkeypatch.setattr(psycopg2, "connect", counting)
    return opened


@pytest.fixture
def fresh_db(cluster: Settings) -> Iterator[Settings]:
    name = f"handoff_{uuid.uuid4().hex[:10]}"
    with pg.maintenance(cluster.endpoint) as cur:
        pg.create_database_if_missing(cur, name, scratch_grant(cluster, name))
    yield replace(cluster, endpoint=replace(cluster.endpoint, database=name))
    health.discard_spare()
    with pg.maintenance(cluster.endpoint) as cur:
        pg.drop_database(cur, name, scratch_grant(cluster, name))


def test_status_connects_to_its_database_once(
    project: ScratchProject, connections: list[str]
) -> None:
    write_chain(project.versions, 2)
    assert project.inv("db.upgrade").returncode == 0
    connections.clear()
    result = project.inv("db.status")
    assert result.returncode == 0, result.stderr
    database = project.settings().endpoint.database
    assert connections.count(database) == 1


def test_the_kept_connection_never_outlives_its_command(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    assert project.inv("db.upgrade").returncode == 0
    for command in ("db.health", "db.status", "db.upgrade"):
        assert project.inv(command).returncode == 0
        assert health._spare is None


def test_a_database_about_to_be_cloned_has_no_kept_session(
    fresh_db: Settings, cluster: Settings
) -> None:
    health.probe(fresh_db.endpoint)
    assert health._spare is not None  # the probe kept its connection
    clone = fresh_db.endpoint.database + "_clone"
    with pg.maintenance(cluster.endpoint) as cur:
        # "source database is being accessed by other users" if the session were kept
        pg.create_database(cur, clone, scratch_grant(cluster, clone), fresh_db.endpoint.database)
        pg.drop_database(cur, clone, scratch_grant(cluster, clone))
    assert health._spare is None


def test_a_kept_connection_the_server_ended_is_replaced(fresh_db: Settings) -> None:
    health.probe(fresh_db.endpoint)
    assert health._spare is not None
    kept = health._spare.conn
    with pg.maintenance(fresh_db.endpoint) as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (kept.get_backend_pid(),))
    conn = health.connect(fresh_db.endpoint)
    try:
        assert conn is not kept and kept.closed
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('application_name')")
            assert cur.fetchone() == ("dbtasks",)
    finally:
        conn.close()


def test_a_kept_connection_is_handed_over_named_as_the_command(fresh_db: Settings) -> None:
    health.probe(fresh_db.endpoint)
    assert health._spare is not None
    kept = health._spare.conn
    conn = health.connect(fresh_db.endpoint, "dbtasks lock")
    try:
        assert conn is kept and health._spare is None
        assert conn.status == psycopg2.extensions.STATUS_READY  # no transaction left open
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('application_name')")
            assert cur.fetchone() == ("dbtasks lock",)
    finally:
        conn.close()


def test_another_endpoint_gets_its_own_connection(fresh_db: Settings, cluster: Settings) -> None:
    health.probe(fresh_db.endpoint)
    assert health._spare is not None
    kept = health._spare.conn
    conn = health.connect(replace(cluster.endpoint, database=pg.MAINTENANCE_DB))
    try:
        assert conn is not kept and kept.closed and health._spare is None
    finally:
        conn.close()
