"""A 100-revision `public` history with no models adopts dbtasks as it is.

The history is built once by raw `alembic upgrade heads` and once by `inv db.upgrade`
(each a database of its own); tests that change a database work on a copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from dbtasks.catalog import diff
from tests.adoption import legacy
from tests.adoption.harness import Database, Databases, Project, ok
from tests.adoption.layouts import fresh_project, legacy_project
from tests.adoption.revisions import Rev

pytestmark = [pytest.mark.adoption, pytest.mark.e2e]
PUBLIC = ["public"]


@dataclass(frozen=True)
class Built:
    project: Project
    revs: list[Rev]
    raw: Database  # built by raw Alembic
    ours: Database  # built by `inv db.upgrade`

    @property
    def head(self) -> str:
        return self.revs[-1].id


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Built:
    revs = legacy.legacy_history()
    project = legacy_project(tmp_path_factory.mktemp("legacy"), revs)
    raw, ours = databases.new(), databases.new()
    ok(project.alembic(raw, "upgrade", "heads"))
    ok(project.inv(ours, "db.upgrade"))
    return Built(project, revs, raw, ours)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, built: Built) -> Project:
    """A project set up for dbtasks from the start (3-line env.py, no models) holding a
    copy of the history."""
    versions = sorted((built.project.root / "migrations" / "versions").glob("*.py"))
    helpers = {f"{legacy.HELPERS_MODULE}.py": legacy.HELPERS}
    return fresh_project(tmp_path_factory.mktemp("fresh"), versions, helpers)


def version(db: Database, table: str = "alembic_version_app") -> list[str]:
    return [str(r[0]) for r in db.rows(f"SELECT version_num FROM public.{table}")]


def test_the_history_has_real_histories_habits(built: Built) -> None:
    text = "\n".join(p.read_text() for p in (built.project.root / "migrations").rglob("*.py"))
    assert len(built.revs) >= 100
    for habit in (
        "autocommit_block()",
        "postgresql_concurrently=True",
        "ADD VALUE",
        'op.execute("COMMIT")',
        "SET lock_timeout",
        "bind.execute(sa.select(",
        'op.drop_constraint("projects_team_id_fkey"',
        "create_unique_constraint(None,",
        "depends_on: str | Sequence[str] | None = '",
        "branch_labels: str | Sequence[str] | None = ('reporting',)",
        f"from {legacy.HELPERS_MODULE} import",
    ):
        assert habit in text, habit
    assert sum(isinstance(r.down, tuple) for r in built.revs) == 2  # two merges


def test_upgrade_builds_what_raw_alembic_builds(built: Built) -> None:
    raw, ours = built.raw.describe(PUBLIC), built.ours.describe(PUBLIC)
    assert diff(raw, ours) == []
    assert len(ours.tables) > 20 and ours.views and ours.enums
    names = {key[2] for key in ours.constraints}
    assert {"users_email_key", "labels_team_id_name_key", "fk_projects_team_id_teams"} <= names
    assert "teams_name_key" not in names and "tasks_priority_check" not in names
    assert version(built.raw) == version(built.ours) == [built.head]
    first_names = built.ours.rows("SELECT first_name FROM users ORDER BY id")
    assert first_names == [("Ada",), ("Alan",), ("Grace",)]


def test_history_json_lists_every_revision_applied(built: Built) -> None:
    rows = json.loads(ok(built.project.inv(built.ours, "db.history", "--json")))
    assert len(rows) == len(built.revs)
    states = {row["id"]: row["state"] for row in rows}
    assert states[built.head] == "current"
    assert set(states.values()) == {"applied", "current"}


def test_downgrade_three_steps_and_back(built: Built, databases: Databases) -> None:
    copy = databases.new(copy_of=built.ours)
    ok(built.project.inv(copy, "db.downgrade", "-3", "--yes"))
    assert version(copy) == [built.revs[-4].id]
    undone = diff(built.raw.describe(PUBLIC), copy.describe(PUBLIC))
    assert "column public.teams.slug missing" in undone
    assert "constraint public.milestones.milestones_project_id_title_key extra" in undone
    ok(built.project.inv(copy, "db.upgrade"))
    assert diff(built.raw.describe(PUBLIC), copy.describe(PUBLIC)) == []


def test_reset_rebuilds_the_same_schema(built: Built, databases: Databases) -> None:
    copy = databases.new(copy_of=built.ours)
    ok(built.project.inv(copy, "db.reset", "--yes"))
    assert diff(built.raw.describe(PUBLIC), copy.describe(PUBLIC)) == []
    assert version(copy) == [built.head]


def test_offline_sql_stops_at_the_first_revision_that_reads_rows(
    built: Built, fresh: Project, databases: Databases
) -> None:
    empty = databases.new()
    result = fresh.inv(empty, "db.upgrade", "--sql", DB_SCHEMA="public")
    reader = built.revs[legacy.DATA_MIGRATION - 1]
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reader.id in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "CREATE TABLE users" in result.stdout  # the revisions before it were written
    assert empty.describe(PUBLIC).tables == {}


def test_offline_sql_runs_an_env_py_that_reads_x_arguments(
    built: Built, databases: Databases
) -> None:
    result = built.project.inv(databases.new(), "db.upgrade", "--sql")
    # Only the revision that reads rows stops the offline run, not env.py's -x reading.
    assert "'Namespace' object has no attribute 'x'" not in result.stderr
    assert "CREATE TABLE users" in result.stdout


def test_adopt_reports_what_raw_alembic_left(built: Built) -> None:
    found = json.loads(ok(built.project.inv(built.raw, "db.adopt", "--json")))
    assert found["version_table"] == "public.alembic_version_app"
    assert found["current"] == [built.head] and found["unknown"] == []
    assert found["revisions"] == len(built.revs)
    assert any("at head" in step for step in found["next_steps"])
    assert built.raw.scalar("SELECT to_regclass('public.dbtasks_revision_log')") is None


def test_adopt_tells_a_custom_env_py_from_ours(built: Built) -> None:
    env = (built.project.root / "migrations" / "env.py").read_text()
    assert "dbtasks" in env and "from dbtasks" not in env  # mentions us, is not ours
    found = json.loads(ok(built.project.inv(built.raw, "db.adopt", "--json")))
    assert found["env_py"] == "custom"


def test_upgrade_takes_over_where_raw_alembic_stopped(built: Built, databases: Databases) -> None:
    behind = databases.new()
    stopped = built.revs[-5].id
    ok(built.project.alembic(behind, "upgrade", stopped))
    found = json.loads(ok(built.project.inv(behind, "db.adopt", "--json")))
    assert found["current"] == [stopped]
    assert any("behind" in step for step in found["next_steps"])
    ok(built.project.inv(behind, "db.upgrade"))
    assert diff(built.raw.describe(PUBLIC), behind.describe(PUBLIC)) == []
    assert version(behind) == [built.head]


def test_adopt_stamps_a_database_built_another_way_only_when_asked(
    built: Built, databases: Databases
) -> None:
    copy = databases.new(copy_of=built.raw)
    copy.rows("DROP TABLE public.alembic_version_app; SELECT 1")
    report = ok(built.project.inv(copy, "db.adopt"))
    assert "no version table" in report and "--stamp" in report
    refused = built.project.inv(copy, "db.adopt", "--stamp", "heads")
    assert refused.returncode == 4 and "--yes" in refused.stderr
    assert copy.scalar("SELECT to_regclass('public.alembic_version_app')") is None
    ok(built.project.inv(copy, "db.adopt", "--stamp", "heads", "--yes"))
    assert version(copy) == [built.head]
    ok(built.project.inv(copy, "db.status", "--check"))
    assert diff(built.raw.describe(PUBLIC), copy.describe(PUBLIC)) == []


def test_an_env_py_keeping_the_history_elsewhere_is_refused(
    built: Built, databases: Databases
) -> None:
    empty = databases.new()
    refused = built.project.inv(empty, "db.upgrade", DB_VERSION_TABLE="alembic_version")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "env.py keeps the history in public.alembic_version_app" in refused.stderr
    assert empty.describe(PUBLIC).tables == {}


def test_adopt_finds_a_version_table_it_was_not_told_about(built: Built) -> None:
    found = json.loads(
        ok(built.project.inv(built.raw, "db.adopt", "--json", DB_VERSION_TABLE="alembic_version"))
    )
    assert found["version_table"] == "public.alembic_version_app"
    assert found["current"] == [built.head]


def test_a_fresh_project_without_models_builds_the_same_schema(
    built: Built, fresh: Project, databases: Databases
) -> None:
    """The copied history under the 3-line env.py, no DB_METADATA, DB_SCHEMA=public."""
    db = databases.new()
    ok(fresh.inv(db, "db.upgrade", DB_SCHEMA="public"))
    raw = built.raw.describe(PUBLIC)
    assert diff(raw, db.describe(PUBLIC)) == []
    assert version(db, "alembic_version") == [built.head]


def test_every_downgrade_restores_the_schema_before_its_upgrade(
    built: Built, databases: Databases
) -> None:
    """db.validate's round trip, one revision at a time, through the project's own env.py."""
    result = built.project.inv(databases.new(), "db.validate", "--json", "--only", "roundtrip")
    report = json.loads(ok(result))
    assert [(c["check"], c["level"]) for c in report["checks"]] == [("roundtrip", "pass")]
