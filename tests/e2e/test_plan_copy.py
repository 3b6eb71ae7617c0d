"""`inv db.plan --copy-schema`: the clone has the target's own schema, hand-made changes
included; a copy that does not load falls back to the replayed history, saying why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dbtasks.settings import Settings
from tests.e2e.test_plan_cli import write
from tests.integration.test_plan_trace import TABLE, TIMEOUT
from tests.projects import ScratchProject, make_project
from tests.support import sql

pytestmark = pytest.mark.e2e


def run(project: ScratchProject, statement: str) -> None:
    """DDL on the target, by hand (committed)."""
    sql(project.settings().endpoint, statement)


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    """At b000 (a table `t`), plus a column made by hand that no revision knows; pending:
    a revision that drops it."""
    project = make_project(tmp_path, cluster)
    write(project, 0, "b000", None, f'    op.execute("CREATE TABLE t ({TABLE})")')
    write(project, 1, "r001", "b000", TIMEOUT + '    op.drop_column("t", "legacy")')
    assert project.inv("db.upgrade", "-r", "b000").returncode == 0
    run(project, "ALTER TABLE app.t ADD COLUMN legacy text")
    run(project, "INSERT INTO app.t (id, legacy) VALUES (1, 'kept')")
    return project


def _plan(project: ScratchProject, *flags: str) -> dict[str, Any]:
    result = project.inv("db.plan", "--json", "--no-downgrade-check", *flags)
    assert result.returncode in (0, 3), result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_the_copy_has_what_the_history_does_not(project: ScratchProject) -> None:
    replayed = _plan(project)
    (first,) = replayed["revisions"]
    assert "legacy" in str(first["error"])  # the history never made the column
    copied = _plan(project, "--copy-schema")
    assert "a schema-only copy of the target (pg_dump)" in str(copied["clone"])
    (revision,) = copied["revisions"]
    assert revision["error"] is None
    assert "drop-column" in {h["code"] for s in revision["statements"] for h in s["hints"]}
    # The target itself is untouched: its column and row are still there.
    assert project.query("SELECT legacy FROM app.t") == [("kept",)]


def test_a_copy_that_does_not_load_replays_instead(project: ScratchProject) -> None:
    run(project, "CREATE SCHEMA elsewhere; CREATE TYPE elsewhere.mood AS ENUM ('ok')")
    run(project, "ALTER TABLE app.t ADD COLUMN mood elsewhere.mood")
    found = _plan(project, "--copy-schema")
    clone = str(found["clone"])
    assert "revision(s) replayed: no schema copy (the copy did not load:" in clone
    assert "elsewhere" in clone


def test_the_copy_loads_only_under_the_clones_grant(project: ScratchProject) -> None:
    """A grant for another server loads nothing (walked for tests/security)."""
    from dataclasses import replace
    from types import SimpleNamespace
    from typing import cast

    from dbtasks import guard
    from dbtasks.errors import Refused
    from dbtasks.migrations.version_table import VersionTable
    from dbtasks.plan.copy import load
    from dbtasks.validate.scratch import Scratch
    from dbtasks.workflow import Work

    settings = project.settings()
    other = replace(settings, endpoint=replace(settings.endpoint, port=1))
    elsewhere = guard.scratch_space(other, "test").grant(settings.endpoint.database + "_x")
    work = cast(Work, SimpleNamespace(version=VersionTable("app", "alembic_version")))
    with pytest.raises(Refused):
        load(work, Scratch(settings, elsewhere), ["CREATE SCHEMA copied_here"], ("b000",))
    assert project.query("SELECT 1 FROM pg_namespace WHERE nspname = 'copied_here'") == []
