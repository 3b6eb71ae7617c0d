"""Mistakes outside the revision files are named where they are, never blamed on a
revision (a broken models module, a misspelt DB_SCHEMA); a broken revision file does not
make a healthy server unhealthy; Alembic's own offline range syntax works."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def break_models(project: ScratchProject) -> None:
    (project.root / f"{project.module}.py").write_text("metadata = (\n")


@pytest.mark.parametrize(
    "command",
    [("db.revision", "-m", "x"), ("db.upgrade",), ("db.upgrade", "--sql")],
)
def test_broken_models_are_named_and_no_revision_is_blamed(
    project: ScratchProject, command: tuple[str, ...]
) -> None:
    write_chain(project.versions, 2)
    # At head for db.revision; one revision pending for the others.
    ok(project.inv("db.upgrade", *(() if command[0] == "db.revision" else ("-r", "r001"))))
    break_models(project)
    line = one_line_error(project.inv(*command), 2)
    assert f"DB_METADATA='{project.module}:metadata' cannot be loaded" in line
    assert f"{project.module}.py line 1: SyntaxError" in line
    assert "r00" not in line  # no revision is blamed


def test_validate_names_broken_models_in_the_checks_that_need_them(
    project: ScratchProject,
) -> None:
    write_chain(project.versions, 1)
    break_models(project)
    result = project.inv("db.validate", "--only", "drift")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{project.module}.py line 1: SyntaxError" in result.stdout


def test_an_offline_range_names_its_own_start(project: ScratchProject) -> None:
    write_chain(project.versions, 3)
    ok(project.inv("db.upgrade", "-r", "r001"))
    sql = ok(project.inv("db.upgrade", "--sql", "-r", "base:r002"))
    assert "CREATE TABLE t001" in sql and "CREATE TABLE t002" in sql
    assert "CREATE TABLE t003" not in sql


def test_a_misspelt_schema_is_named_instead_of_reporting_another_history(
    project: ScratchProject,
) -> None:
    """A new DB_SCHEMA may be a second project's (it builds from nothing) or a typo: the
    history kept elsewhere is never read as its own, and both commands say it is there."""
    write_chain(project.versions, 1)
    ok(project.inv("db.upgrade"))
    status = project.inv("db.status", DB_SCHEMA="nosuch")
    assert status.returncode == 0, status.stderr
    assert re.search(r"current:\s+\(none\)", status.stdout), status.stdout
    assert "DB_SCHEMA 'nosuch' does not exist yet" in status.stderr
    assert "app.alembic_version" in status.stderr and "misspelt" in status.stderr
    upgrade = project.inv("db.upgrade", DB_SCHEMA="nosuch")
    assert upgrade.returncode == 0 and "misspelt" in upgrade.stderr, upgrade.stderr
    ok(project.inv("db.status", "--check"))  # the real schema is untouched


def test_health_stays_healthy_with_a_broken_revision_file(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    ok(project.inv("db.upgrade"))
    (project.versions / "002_broken.py").write_text("revision = 'r002'\ndown_revision = (\n")
    out = ok(project.inv("db.health"))
    assert "unknown" in out and "002_broken.py" in out
    result = project.inv("db.health", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["at_head"] is None and "002_broken.py" in report["history_error"]
