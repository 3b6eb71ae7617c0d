"""`inv db.reset` and `inv db.seed` through the real command."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project
from tests.support import HOSTILE_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def mindmirror(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster, with_mindmirror=True)


def rows(project: ScratchProject) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(**project.settings().endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT display_name FROM app.profiles ORDER BY 1")
            return list(cur.fetchall())
    finally:
        conn.close()


def test_reset_yes_gives_head_with_seed_rows(mindmirror: ScratchProject) -> None:
    result = mindmirror.inv("db.reset", "--yes")
    assert result.returncode == 0, result.stderr
    assert "at head" in result.stdout
    assert HOSTILE_PASSWORD not in result.stdout + result.stderr
    assert rows(mindmirror) == [("Ada Example",), ("Grace Sample",)]
    assert mindmirror.inv("db.status", "--check").returncode == 0
    assert "snapshot: valid" in mindmirror.inv("db.status").stdout
    again = mindmirror.inv("db.reset", "--yes")
    assert "reset from snapshot" in again.stdout


def test_reset_without_yes_and_terminal_is_exit_4_and_touches_nothing(
    mindmirror: ScratchProject,
) -> None:
    assert mindmirror.inv("db.reset", "--yes").returncode == 0
    mindmirror.inv("db.seed")  # a second copy of the seed makes the data distinguishable
    before = rows(mindmirror)
    refused = mindmirror.inv("db.reset")
    assert refused.returncode == 4
    assert "--yes" in refused.stderr
    assert "database 'db_" in refused.stdout  # the target was named before refusing
    assert rows(mindmirror) == before


def test_hosted_supabase_reset_is_exit_4(mindmirror: ScratchProject) -> None:
    assert mindmirror.inv("db.reset", "--yes").returncode == 0
    before = rows(mindmirror)
    refused = mindmirror.inv("db.reset", "--yes", DB_HOST="db.abcdefghijklmnop.supabase.co")
    assert refused.returncode == 4
    assert "hosted Supabase" in refused.stderr
    assert rows(mindmirror) == before


def test_seed_failure_is_exit_1_with_file_and_line(mindmirror: ScratchProject) -> None:
    assert mindmirror.inv("db.reset", "--yes", "--no-seed").returncode == 0
    (mindmirror.root / "seeds" / "000_bad.sql").write_text("SELECT 1;\nSELECT nope;\n")
    result = mindmirror.inv("db.seed")
    assert result.returncode == 1
    assert "seeds/000_bad.sql line 2" in result.stderr
    assert rows(mindmirror) == []
