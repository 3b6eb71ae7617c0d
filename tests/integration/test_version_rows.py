"""The version row's move and the timing row travel together, as Alembic's bookkeeping.

dbtasks sends its own statement for the move Alembic would compile per revision, carrying
the revision's timing row: the rows must be exactly what Alembic's statement and a
separate INSERT would leave, every failure must roll the revision back, and Alembic's own
check (one row moved) must still hold.
"""

from __future__ import annotations

import io

import pytest

from dbtasks.adapter.run import MigrationFailed
from dbtasks.console import Console
from dbtasks.errors import DbTasksError
from tests import flows as commands
from tests.projects import ScratchProject, revision_text, write_chain

pytestmark = pytest.mark.integration


def quiet() -> Console:
    return Console(out=io.StringIO(), err=io.StringIO())


def journal(project: ScratchProject) -> list[tuple[object, ...]]:
    return project.query(
        "SELECT revision, direction, outcome, checksum IS NOT NULL "
        "FROM app.dbtasks_revision_log ORDER BY id",
    )


def test_every_revision_has_one_row_and_the_version_moves(project: ScratchProject) -> None:
    write_chain(project.versions, 4)
    commands.upgrade(project.settings(), quiet())
    assert project.query("SELECT version_num FROM app.alembic_version") == [("r004",)]
    assert journal(project) == [(f"r00{i}", "upgrade", "applied", True) for i in range(1, 5)]
    commands.downgrade(project.settings(), quiet(), "r002", yes=True)
    assert project.query("SELECT version_num FROM app.alembic_version") == [("r002",)]
    assert journal(project)[4:] == [
        ("r004", "downgrade", "undone", True),
        ("r003", "downgrade", "undone", True),
    ]


def test_a_revision_that_removes_the_version_row_fails_as_under_alembic(
    project: ScratchProject,
) -> None:
    write_chain(project.versions, 1)
    (project.versions / "002_r002.py").write_text(
        revision_text("r002", "r001", 'op.execute("DELETE FROM app.alembic_version")')
    )
    with pytest.raises(MigrationFailed) as info:
        commands.upgrade(project.settings(), quiet())
    assert "expected to match one row when updating 'r001' to 'r002'" in info.value.render()
    assert project.query("SELECT version_num FROM app.alembic_version") == [("r001",)]
    assert [r[0] for r in journal(project)] == ["r001", "r002"]  # r002's is its failure
    assert journal(project)[1][2] == "failed"


def test_a_revision_that_drops_the_timing_history_is_rolled_back(
    project: ScratchProject,
) -> None:
    write_chain(project.versions, 1)
    (project.versions / "002_r002.py").write_text(
        revision_text(
            "r002",
            "r001",
            'op.execute("CREATE TABLE kept (id int)")\n'
            '    op.execute("DROP TABLE app.dbtasks_revision_log")',
        )
    )
    with pytest.raises(DbTasksError) as info:
        commands.upgrade(project.settings(), quiet())
    message = info.value.render()
    assert "recording revision r002 failed" in message and "rolled back" in message
    assert project.query("SELECT version_num FROM app.alembic_version") == [("r001",)]
    assert project.query("SELECT to_regclass('app.kept')") == [(None,)]
    assert [r[0] for r in journal(project)] == ["r001"]


def _logging_imports(project: ScratchProject, count: int) -> None:
    """`count` revisions, each noting in imports.log when its file is imported."""
    write_chain(project.versions, count)
    log = project.root / "imports.log"
    for path in project.revision_files():
        text = path.read_text()
        rev = path.stem.split("_")[1]
        note = f"open({str(log)!r}, 'a').write({rev + chr(10)!r})\n"
        path.write_text(text.replace("revision = ", note + "revision = ", 1))


def test_with_the_history_known_only_the_revisions_run_are_imported(
    project: ScratchProject,
) -> None:
    _logging_imports(project, 5)
    log = project.root / "imports.log"
    commands.upgrade(project.settings(), quiet(), target="r003")  # reads the history
    assert sorted(set(log.read_text().split())) == ["r001", "r002", "r003", "r004", "r005"]
    log.write_text("")
    final = commands.upgrade(project.settings(), quiet())
    assert final.current == ("r005",)
    assert log.read_text().split() == ["r004", "r005"]
    assert [r[0] for r in journal(project)] == ["r001", "r002", "r003", "r004", "r005"]


def test_a_file_changed_behind_a_known_history_is_read_afresh(project: ScratchProject) -> None:
    _logging_imports(project, 3)
    commands.upgrade(project.settings(), quiet(), target="r001")
    path = project.versions / "003_r003.py"
    path.write_text(path.read_text().replace("step 3", "step three"))
    log = project.root / "imports.log"
    log.write_text("")
    out = io.StringIO()
    commands.upgrade(project.settings(), Console(out=out, err=io.StringIO()))
    assert "step three" in out.getvalue()
    assert sorted(set(log.read_text().split())) == ["r001", "r002", "r003"]
