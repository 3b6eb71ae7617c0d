"""The migration lock: waiting, timing out, and switching it off."""

from __future__ import annotations

import io

import psycopg2
import pytest

from dbtasks.console import Console
from dbtasks.migrations.lock import LockTimeout, migration_lock
from dbtasks.stack import ensure_ready
from tests import flows as commands
from tests.projects import ScratchProject, write_chain

pytestmark = pytest.mark.integration


def applied_log(project: ScratchProject) -> list[str]:
    conn = psycopg2.connect(**project.settings().endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT rev FROM app.applied_log ORDER BY rev")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def test_second_process_waits_then_finds_nothing_to_do(project: ScratchProject) -> None:
    write_chain(project.versions, 3)
    settings = project.settings()
    ensure_ready(settings, Console(out=io.StringIO()))  # creates the database
    with migration_lock(settings, Console(out=io.StringIO())):
        waiting = project.popen("db.upgrade")
        assert waiting.stdout is not None
        # It shows its plan, then waits.
        line = ""
        while "waiting" not in line and waiting.poll() is None:
            line = waiting.stdout.readline()
        assert "waiting for the migration lock held by pid" in line
        assert "dbtasks migrate" in line
        # While it waits, this process (holding the lock) does the work.
        commands.upgrade(
            project.settings(DB_LOCK="false"), Console(out=io.StringIO(), err=io.StringIO())
        )
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert "another run applied them while this one waited" in out
    assert applied_log(project) == ["r001", "r002", "r003"]


def test_lock_timeout_names_the_holder(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    settings = project.settings()
    ensure_ready(settings, Console(out=io.StringIO()))
    holder = migration_lock(settings, Console(out=io.StringIO()))
    with holder, pytest.raises(LockTimeout) as info:
        commands.upgrade(project.settings(DB_LOCK_TIMEOUT="0.3"), Console(out=io.StringIO()))
    assert info.value.exit_code == 1
    assert "held by pid" in info.value.render()
    assert "DB_LOCK_TIMEOUT" in info.value.render()


def test_lock_off_says_so(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    err = io.StringIO()
    commands.upgrade(project.settings(DB_LOCK="false"), Console(out=io.StringIO(), err=err))
    assert "DB_LOCK is off" in err.getvalue()
    assert applied_log(project) == ["r001"]
