"""What `db.revision` writes is safe and passes the project's own gates, and says what it
cannot know: a removed or renamed enum value, a dropped (perhaps renamed) column."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from dbtasks.console import Console
from dbtasks.settings import Settings
from tests import flows as commands
from tests.projects import ScratchProject, make_project
from tests.support import REPO

pytestmark = pytest.mark.integration

MOODS = """
import enum
from sqlalchemy import Column, Enum, Integer, MetaData, String, Table

metadata = MetaData(naming_convention={{"pk": "pk_%(table_name)s", "ix": "ix_%(column_0_label)s"}})
mood = Enum({values}, name="mood")
entries = Table("entries", metadata, Column("id", Integer, primary_key=True),
                Column("{column}", String(200)), Column("mood", mood){extra})
"""


def models(values: str = "'happy', 'sad'", column: str = "body", extra: str = "") -> str:
    return MOODS.format(values=values, column=column, extra=extra)


def quiet() -> Console:
    return Console(out=io.StringIO(), err=io.StringIO())


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    project = make_project(tmp_path, cluster, models=models())
    commands.init(project.settings(), quiet())
    return project


def test_a_removed_enum_value_is_named_and_nothing_is_written(project: ScratchProject) -> None:
    project.write_models(models("'happy'"))
    new = commands.revision(project.settings(), quiet(), "drop sad")
    assert new.path is None
    assert any("'sad'" in w and "cannot drop an enum value" in w for w in new.warnings)


def test_a_renamed_enum_value_proposes_the_rename(project: ScratchProject) -> None:
    project.write_models(models("'happy', 'blue'"))
    new = commands.revision(project.settings(), quiet(), "rename sad")
    (warning,) = [w for w in new.warnings if "'sad'" in w]
    assert "RENAME VALUE 'sad' TO 'blue'" in warning


def test_validate_drift_reports_values_the_models_lost(project: ScratchProject) -> None:
    from dbtasks.validate.run import validate

    project.write_models(models("'happy'"))
    report = validate(project.settings(), quiet(), ["drift"])
    (drift,) = report.results
    assert any("'sad'" in f.message for f in drift.findings), drift


def test_a_dropped_column_beside_an_added_one_is_called_a_likely_rename(
    project: ScratchProject,
) -> None:
    project.write_models(models(column="text"))
    new = commands.revision(project.settings(), quiet(), "rename body")
    (warning,) = [w for w in new.warnings if "entries.body" in w]
    assert "its data" in warning and "new_column_name='text'" in warning


def test_an_index_on_an_existing_table_is_built_concurrently(project: ScratchProject) -> None:
    project.write_models(models(extra=', Column("tag", String(20), index=True)'))
    new = commands.revision(project.settings(), quiet(), "index tags")
    assert new.path is not None
    text = (project.root / new.path).read_text()
    assert "autocommit_block()" in text and "postgresql_concurrently=True" in text
    commands.upgrade(project.settings(), quiet())  # it applies
    commands.downgrade(project.settings(), quiet(), "-1", yes=True)  # and is undone


def test_what_is_written_passes_ruff(project: ScratchProject) -> None:
    project.write_models(models("'happy', 'sad', 'calm'", extra=', Column("n", Integer)'))
    new = commands.revision(project.settings(), quiet(), "add calm and n")
    assert new.path is not None
    path = project.root / new.path
    config = ["--config", str(REPO / "pyproject.toml")]
    fixed = [sys.executable, "-m", "ruff", "check", "--fix", "--quiet", *config, str(path)]
    subprocess.run(fixed, check=False)  # what the post-write hook does
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", *config, str(path)], check=False
    )
    checked = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *config, str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout
    assert max(len(line) for line in path.read_text().splitlines()) <= 100


def test_comments_docstrings_and_acknowledgements_are_not_edits(
    project: ScratchProject,
) -> None:
    from dbtasks.reads.history import status
    from dbtasks.workflow import read

    (path,) = project.revision_files()
    text = path.read_text()
    path.write_text(
        text.replace('"""', '"""Reworded. ', 1)
        + "\n# a comment\ndbtasks_allow = {'require-concurrent-index-creation': 'tiny'}\n"
    )
    report = read(status, project.settings(), quiet())
    assert report.edited == []
    path.write_text(text.replace("def upgrade() -> None:", "def upgrade() -> None:\n    x = 1", 1))
    assert read(status, project.settings(), quiet()).edited != []


def test_a_seed_failing_inside_a_reset_says_to_reset_again(
    tmp_path: Path, cluster: Settings
) -> None:
    from dbtasks.flows.reset import ResetOptions, reset
    from dbtasks.seeds import SeedFailed

    project = make_project(tmp_path / "seeded", cluster, models=models())
    (project.root / "seeds").mkdir()
    (project.root / "seeds" / "001.sql").write_text("INSERT INTO nowhere VALUES (1);\n")
    with pytest.raises(SeedFailed) as info:
        reset(project.settings(), quiet(), ResetOptions(yes=True))
    assert "inv db.reset --yes" in (info.value.hint or "")
