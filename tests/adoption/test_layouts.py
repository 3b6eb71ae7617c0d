"""Other layouts adopt dbtasks as they are: a history naming `schema="app"` everywhere
(under its own env.py and under ours), two version folders, and `alembic init` untouched.

Each reaches head through `inv db.upgrade` with the schema raw `alembic upgrade heads`
builds, then resets, lists its history, and goes three steps down and back up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dbtasks.catalog import diff
from tests.adoption import layouts
from tests.adoption.harness import Database, Databases, Project, Run, ok
from tests.adoption.histories import qualified_history

pytestmark = [pytest.mark.adoption, pytest.mark.e2e]


@dataclass(frozen=True)
class Layout:
    build: Callable[[Path], Project]
    schema: str
    version_table: str  # where raw Alembic and dbtasks both keep the history
    raw: Callable[[Project, Database], Run] = lambda p, db: p.alembic(db, "upgrade", "heads")


LAYOUTS = {
    "schema-qualified": Layout(layouts.qualified_project, "app", "app.alembic_version"),
    "schema-qualified, our env.py": Layout(
        lambda root: layouts.qualified_project(root, runtime=True), "app", "app.alembic_version"
    ),
    "two version folders": Layout(layouts.two_folder_project, "public", "public.alembic_version"),
    "alembic init": Layout(
        layouts.generic_project,
        "public",
        "public.alembic_version",
        raw=lambda p, db: p.alembic_with_url_in_ini(db, "upgrade", "heads"),
    ),
}


def heads_of(db: Database, table: str) -> list[str]:
    return [str(r[0]) for r in db.rows(f"SELECT version_num FROM {table}")]


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_layout_adopts_dbtasks(name: str, tmp_path: Path, databases: Databases) -> None:
    layout = LAYOUTS[name]
    project = layout.build(tmp_path / "project")
    raw, ours = databases.new(), databases.new()
    ok(layout.raw(project, raw))
    ok(project.inv(ours, "db.upgrade"))
    built = raw.describe([layout.schema])
    assert built.tables and diff(built, ours.describe([layout.schema])) == []
    head = heads_of(raw, layout.version_table)
    assert head == heads_of(ours, layout.version_table)
    if layout.schema != "public":
        assert ours.describe(["public"]).tables == {}  # nothing leaked out of DB_SCHEMA

    history = json.loads(ok(project.inv(ours, "db.history", "--json")))
    assert history[0]["state"] == "current"
    assert {row["state"] for row in history} == {"current", "applied"}

    ok(project.inv(ours, "db.downgrade", "-3", "--yes"))
    assert heads_of(ours, layout.version_table) == [history[3]["id"]]
    assert diff(built, ours.describe([layout.schema])) != []
    ok(project.inv(ours, "db.reset", "--yes"))
    assert diff(built, ours.describe([layout.schema])) == []
    assert heads_of(ours, layout.version_table) == head


def test_a_history_kept_in_public_is_claimed_and_continued(
    tmp_path: Path, databases: Databases
) -> None:
    """The env.py never said where to keep the history, so raw Alembic put it in public;
    with DB_SCHEMA=app, dbtasks names it (it could be another project's) and continues it
    once DB_VERSION_SCHEMA claims it."""
    project = layouts.qualified_project(tmp_path / "project", version_in_app=False)
    full, behind = databases.new(), databases.new()
    ok(project.alembic(full, "upgrade", "heads"))
    stopped = [qualified_history()[-4].id]
    ok(project.alembic(behind, "upgrade", stopped[0]))
    assert heads_of(behind, "public.alembic_version") == stopped
    found = json.loads(ok(project.inv(behind, "db.adopt", "--json")))
    assert found["other_version_tables"] == ["public.alembic_version"]
    assert any("DB_VERSION_SCHEMA=public" in step for step in found["next_steps"])
    refused = project.inv(behind, "db.upgrade")
    assert refused.returncode == 2 and "DB_VERSION_SCHEMA=public" in refused.stderr
    assert heads_of(behind, "public.alembic_version") == stopped
    claimed = {"DB_VERSION_SCHEMA": "public"}
    found = json.loads(ok(project.inv(behind, "db.adopt", "--json", **claimed)))
    assert found["version_table"] == "public.alembic_version" and found["current"] == stopped
    ok(project.inv(behind, "db.upgrade", **claimed))
    assert heads_of(behind, "public.alembic_version") == heads_of(full, "public.alembic_version")
    assert behind.scalar("SELECT to_regclass('app.alembic_version')") is None
    assert diff(full.describe(["app"]), behind.describe(["app"])) == []


def test_validate_lints_the_sql_revisions_send(tmp_path: Path, databases: Databases) -> None:
    """The schema-qualified history reads rows: from there on, its SQL is captured on a
    database (our env.py, so that every revision before it renders offline)."""
    project = layouts.qualified_project(tmp_path / "project", runtime=True)
    checks = ("--only", "lint", "--only", "roundtrip")
    report = json.loads(project.inv(databases.new(), "db.validate", "--json", *checks).stdout)
    (lint,) = [c for c in report["checks"] if c["check"] == "lint"]
    assert lint["error"] is None and not lint["skipped"]
    syntax = [f["message"] for f in lint["findings"] if f["message"].startswith("syntax-error")]
    assert syntax == []
