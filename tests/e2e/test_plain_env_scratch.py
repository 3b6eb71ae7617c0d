"""An env.py as `alembic init` writes it connects by the Config's URL and ignores the
connection dbtasks hands it: the scratch builds (db.validate's round trip, db.plan,
db.erd) must still run on their scratch database, never the developer's, and an env.py
that connects somewhere else on its own is refused before any DDL runs there."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2
import pytest

from dbtasks.settings import Settings
from tests.e2e.test_first_contact import PLAIN_ENV, env_py
from tests.projects import ScratchProject, make_project, write_chain

pytestmark = pytest.mark.e2e

URL_FROM_CONFIG = 'config.get_main_option("sqlalchemy.url")'


@pytest.fixture
def plain(tmp_path: Path, cluster: Settings) -> ScratchProject:
    project = make_project(tmp_path, cluster)
    env_py(project, PLAIN_ENV.format(extra="", url=URL_FROM_CONFIG))
    write_chain(project.versions, 3)
    return project


def tables(project: ScratchProject) -> list[str]:
    conn = psycopg2.connect(**project.settings().endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT schemaname || '.' || tablename FROM pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
            )
            return [str(r[0]) for r in cur.fetchall()]
    finally:
        conn.close()


def test_the_round_trip_runs_on_its_scratch_database(plain: ScratchProject) -> None:
    assert plain.inv("db.upgrade").returncode == 0
    before = tables(plain)
    result = plain.inv("db.validate", "--json", "--only", "roundtrip")
    assert result.returncode == 0, result.stderr
    (roundtrip,) = json.loads(result.stdout)["checks"]
    assert roundtrip["level"] == "pass", roundtrip
    assert tables(plain) == before


def test_the_round_trip_leaves_an_empty_database_empty(plain: ScratchProject) -> None:
    assert plain.inv("stack.up").returncode == 0  # the database, created and empty
    before = tables(plain)
    result = plain.inv("db.validate", "--json", "--only", "roundtrip")
    assert result.returncode == 0, result.stderr
    assert tables(plain) == before


def test_plan_traces_on_its_clone(plain: ScratchProject) -> None:
    assert plain.inv("db.upgrade", "-r", "r001").returncode == 0
    before = tables(plain)
    result = plain.inv("db.plan", "--json")
    assert result.returncode == 0, result.stderr
    traced = [r["id"] for r in json.loads(result.stdout)["revisions"]]
    assert traced == ["r002", "r003"]
    assert tables(plain) == before


def test_an_env_py_connecting_elsewhere_on_its_own_is_refused(
    plain: ScratchProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An env.py that reads its own variable keeps pointing at the developer's database:
    the scratch build's grant does not cover it, so nothing runs there."""
    settings = plain.settings()
    url = settings.endpoint.sqlalchemy_url().render_as_string(hide_password=False)
    monkeypatch.setenv("APP_DATABASE_URL", url)
    env_py(plain, PLAIN_ENV.format(extra="import os", url='os.environ["APP_DATABASE_URL"]'))
    assert plain.inv("db.upgrade").returncode == 0  # the configured database: allowed
    before = tables(plain)
    result = plain.inv("db.validate", "--json", "--only", "roundtrip")
    assert result.returncode != 0
    assert "env.py connected on its own" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert tables(plain) == before
