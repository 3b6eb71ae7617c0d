"""Resets of one database run one at a time: every concurrent `db.reset --yes` succeeds,
those that waited say so, and the database ends at head, seeded once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest

from dbtasks.settings import Settings
from tests.projects import make_project

pytestmark = pytest.mark.e2e


def test_four_resets_at_once_all_succeed_in_turn(tmp_path: Path, cluster: Settings) -> None:
    project = make_project(tmp_path, cluster, with_mindmirror=True)
    first = project.inv("db.prepare")
    assert first.returncode == 0, first.stderr
    with ThreadPoolExecutor(max_workers=4) as pool:
        # Processes of their own: four resets that really run at once.
        results = list(pool.map(lambda _: project.process("db.reset", "--yes"), range(4)))
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "duplicate key" not in result.stderr
    waited = [r for r in results if "waiting for another reset" in r.stdout + r.stderr]
    assert waited, [r.stdout for r in results]
    conn = psycopg2.connect(**project.settings().endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM auth.users")
            users = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM app.alembic_version")
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()
    assert users > 0
