"""A lost migration lock is noticed: when the session holding it ends in the middle of a
run, another deploy may take it, so no further revision may be applied or undone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from dbtasks.migrations.lock import NAMESPACE
from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, revision_text

pytestmark = pytest.mark.e2e

SLEEP = 4  # seconds the slow revision holds still while its lock is taken away


def chain(versions: Path, count: int, slow_up: int = 0, slow_down: int = 0) -> None:
    """Revisions r001..; `slow_up` (`slow_down`) sleeps in its upgrade (downgrade)."""
    for i in range(1, count + 1):
        rev, down = f"r{i:03d}", (f"r{i - 1:03d}" if i > 1 else None)
        upgrade = f'op.execute("CREATE TABLE t{i:03d} (id int)")'
        downgrade = f'op.execute("DROP TABLE t{i:03d}")'
        sleep = f'\n    op.execute("SELECT pg_sleep({SLEEP})")'
        up = upgrade + (sleep if i == slow_up else "")
        back = downgrade + (sleep if i == slow_down else "")
        text = revision_text(rev, down, up, back, message=f"step {i}", second=i)
        (versions / f"{i:03d}_{rev}.py").write_text(text)


def maintenance(cluster: Settings) -> Any:
    conn = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    conn.autocommit = True
    return conn


def wait_for_a_sleeping_revision(cur: Any, database: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        cur.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
            "AND query LIKE %s AND pid <> pg_backend_pid()",
            (database, "%pg_sleep%"),
        )
        if cur.fetchone():
            return
        time.sleep(0.05)


def terminate_lock_holder_while_sleeping(cluster: Settings, database: str) -> list[str]:
    """Wait until a revision sleeps in `database`, then end the session holding the
    migration lock; returns the application names of the sessions ended."""
    conn = maintenance(cluster)
    try:
        with conn.cursor() as cur:
            wait_for_a_sleeping_revision(cur, database)
            cur.execute(
                "SELECT a.application_name, pg_terminate_backend(l.pid) "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s::oid "
                "AND l.objsubid = 2 AND a.datname = %s",
                (NAMESPACE, database),
            )
            return [str(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()


def applied(project: ScratchProject) -> list[str]:
    conn = psycopg2.connect(**project.settings().endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('app.applied_log') IS NOT NULL")
            if not cur.fetchone()[0]:
                return []
            cur.execute("SELECT rev FROM app.applied_log ORDER BY rev")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def run_and_lose_the_lock(project: ScratchProject, cluster: Settings, *args: str) -> str:
    """Run `inv ARGS`, take its lock away while a revision sleeps; returns its stderr
    after checking it failed (exit 1) saying so."""
    process = project.popen(*args)
    ended = terminate_lock_holder_while_sleeping(cluster, project.env["DB_NAME"])
    out, err = process.communicate(timeout=180)
    assert ended and set(ended) <= {"dbtasks", "dbtasks migrate"}, ended
    assert process.returncode == 1, f"{out}\n{err}"
    lines = [line for line in err.splitlines() if "lock" in line and "lost" in line]
    assert lines, err
    return err


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster)


@pytest.mark.parametrize("slow", [1, 2])
def test_upgrade_stops_when_its_lock_is_lost(
    project: ScratchProject, cluster: Settings, slow: int
) -> None:
    chain(project.versions, 4, slow_up=slow)
    run_and_lose_the_lock(project, cluster, "db.upgrade")
    # The revision that was running is rolled back; none after it ran.
    assert applied(project) == [f"r{i:03d}" for i in range(1, slow)]


def test_downgrade_stops_when_its_lock_is_lost(project: ScratchProject, cluster: Settings) -> None:
    chain(project.versions, 4)
    assert project.inv("db.upgrade").returncode == 0
    chain(project.versions, 4, slow_down=3)
    run_and_lose_the_lock(project, cluster, "db.downgrade", "base", "--yes")
    assert applied(project) == ["r001", "r002", "r003"]


def test_a_lost_lock_cancels_the_running_statement_at_once(
    project: ScratchProject, cluster: Settings
) -> None:
    """The statement would sleep ten minutes: the run can only end within the minute the
    test waits if the lock's loss cancels it, instead of waiting for its end."""
    chain(project.versions, 2)
    slow = project.versions / "002_r002.py"
    slow.write_text(slow.read_text().replace("CREATE TABLE t002 (id int)", "SELECT pg_sleep(600)"))
    process = project.popen("db.upgrade")
    ended = terminate_lock_holder_while_sleeping(cluster, project.env["DB_NAME"])
    out, err = process.communicate(timeout=60)
    assert ended and process.returncode == 1, f"{out}\n{err}"
    (line,) = [ln for ln in err.splitlines() if ln.strip()]
    assert "lock was lost" in line and "r002" in line and "rolled back" in line
    assert "fix " not in line  # the revision file is not to blame
    assert applied(project) == ["r001"]
    conn = maintenance(cluster)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE %s "
                "AND state = 'active' AND pid <> pg_backend_pid()",
                (project.env["DB_NAME"], "%pg_sleep(600)%"),
            )
            assert cur.fetchone()[0] == 0
    finally:
        conn.close()
