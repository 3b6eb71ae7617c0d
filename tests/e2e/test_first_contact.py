"""A team's existing Alembic project, and a new user's first week, work the first time.

Errors name the file really at fault; output machines read stays machine-readable; one
line per revision wherever a message is shown; validate goes past a broken downgrade;
read-only commands show the history without a database; the CLI says what it means.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, revision_text, write_chain

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster)


def one_line(result: object) -> str:
    err = getattr(result, "stderr", "")
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def env_py(project: ScratchProject, body: str) -> None:
    (project.root / "alembic" / "env.py").write_text(body)


PLAIN_ENV = """\
from alembic import context
from sqlalchemy import engine_from_config, pool
{extra}
config = context.config


def run_migrations_online():
    connectable = engine_from_config(
        {{"sqlalchemy.url": {url}}}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_offline():
    context.configure(url={url}, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""


@pytest.mark.parametrize(
    ("extra", "url", "words"),
    [
        ("import myapp.settings  # noqa", 'config.get_main_option("sqlalchemy.url")', "myapp"),
        ("", 'config.get_main_option("url")', "env.py"),
    ],
    ids=["missing app module", "unsupplied config key"],
)
def test_an_env_py_that_fails_is_named_not_the_first_revision(
    project: ScratchProject, extra: str, url: str, words: str
) -> None:
    write_chain(project.versions, 2)
    env_py(project, PLAIN_ENV.format(extra=extra, url=url))
    result = project.inv("db.upgrade")
    line = one_line(result)
    assert result.returncode == 2, result.stderr
    assert "env.py line" in line and words in line and "r001" not in line
    adopt = json.loads(project.inv("db.adopt", "--json").stdout)
    assert adopt["env_problem"] and "env.py" in adopt["env_problem"]


def test_a_server_state_failure_does_not_blame_a_correct_file(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    upgrade = 'op.execute("CREATE EXTENSION no_such_extension_here")'
    (project.versions / "002_r002.py").write_text(revision_text("r002", "r001", upgrade))
    result = project.inv("db.upgrade")
    assert result.returncode == 1
    line = one_line(result)
    assert "r002" in line and "no_such_extension_here" in line
    assert "fix 002_r002.py" not in line and "extensions" in line


def test_what_revisions_print_never_reaches_stdout(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    chatty = 'print("Updating 0 users.")\n    op.execute("CREATE TABLE t2 (id int)")'
    (project.versions / "002_r002.py").write_text(
        revision_text("r002", "r001", chatty, 'print("undoing")\n    op.execute("DROP TABLE t2")')
        + '\nprint("imported")\n'
    )
    report = project.inv("db.validate", "--json", "--only", "roundtrip")
    json.loads(report.stdout)
    assert "Updating 0 users." in report.stderr
    assert project.inv("db.upgrade", "-r", "r001").returncode == 0
    sql = project.inv("db.upgrade", "--sql")
    assert "imported" not in sql.stdout and "CREATE TABLE t2" in sql.stdout
    status = project.inv("db.status", "--json")
    json.loads(status.stdout)


def test_a_multi_line_message_is_one_line_everywhere(project: ScratchProject) -> None:
    text = revision_text("r001", None, message="Add users.\n\nA long story\nover lines")
    (project.versions / "001_r001.py").write_text(text)
    history = project.inv("db.history")
    assert history.returncode == 0, history.stderr
    rows = [ln for ln in history.stdout.splitlines() if "r001" in ln]
    assert len(rows) == 1 and "Add users." in rows[0] and "A long story" not in history.stdout
    (described,) = json.loads(project.inv("db.history", "--json").stdout)
    assert described["message"] == "Add users." and "over lines" in described["doc"]


def test_a_broken_downgrade_is_a_finding_and_the_round_trip_goes_on(
    project: ScratchProject,
) -> None:
    write_chain(project.versions, 4)
    broken = project.versions / "003_r003.py"
    broken.write_text(
        broken.read_text().replace('op.execute("DROP TABLE t003")', 'raise ValueError("nope")')
    )
    leaky = project.versions / "002_r002.py"
    leaky.write_text(leaky.read_text().replace('op.execute("DROP TABLE t002")', "pass"))
    result = project.inv("db.validate", "--json", "--only", "roundtrip")
    assert result.returncode == 3, result.stderr
    (roundtrip,) = json.loads(result.stdout)["checks"]
    found = {f["revision"]: f["message"] for f in roundtrip["findings"]}
    assert "its downgrade fails" in found["r003"] and "nope" in found["r003"]
    assert "does not restore" in found["r002"]  # checked past r003
    assert all("inv db.downgrade" not in m for m in found.values())
    assert "validation failed: roundtrip" in result.stderr


def test_adopt_proposes_linting_only_what_comes_next(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    assert project.inv("db.upgrade").returncode == 0
    steps = json.loads(project.inv("db.adopt", "--json").stdout)["next_steps"]
    assert any("DB_LINT_FROM=r002" in step for step in steps), steps


def test_read_only_commands_show_the_history_without_a_database(
    project: ScratchProject,
) -> None:
    write_chain(project.versions, 2)
    gone = {"DB_NAME": "no_such_database_here"}
    for args in (("db.history",), ("db.heads",), ("db.show", "r001")):
        result = project.inv(*args, **gone)
        assert result.returncode == 0, (args, result.stderr)
        assert "r001" in result.stdout or "r002" in result.stdout
        assert "showing the revision files only" in result.stderr
    rows = json.loads(project.inv("db.history", "--json", **gone).stdout)
    assert {row["state"] for row in rows} == {"unknown"}


def test_an_ambiguous_relative_step_names_the_candidates(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    for rev in ("ba", "bb"):
        (project.versions / f"{rev}.py").write_text(revision_text(rev, "r001"))
    assert project.inv("db.upgrade", "-r", "r001").returncode == 0
    result = project.inv("db.upgrade", "-r", "+1")
    assert result.returncode == 2
    line = one_line(result)
    assert "ba" in line and "bb" in line and "inv db.upgrade -r ba" in line


def test_upgrading_two_heads_says_so(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    for rev in ("ba", "bb"):
        (project.versions / f"{rev}.py").write_text(revision_text(rev, "r001"))
    result = project.inv("db.upgrade")
    assert result.returncode == 0 and "2 heads" in result.stderr and "db.merge" in result.stderr


def test_a_misspelt_task_gets_the_nearest_name(project: ScratchProject) -> None:
    result = project.inv("db.upgrad")
    assert result.returncode == 1 and "did you mean db.upgrade?" in result.stderr


def test_piped_progress_lines_carry_the_mark(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    result = project.inv("db.upgrade")
    progress = [ln for ln in result.stdout.splitlines() if "[1/2]" in ln]
    assert progress and progress[0].startswith("✓ ")


def test_a_wrong_password_says_where_it_came_from(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    (project.root / ".env").write_text("DB_PASS=not-the-password\n")
    env = {k: v for k, v in project.env.items() if k != "DB_PASS"}
    project.env = env
    result = project.inv("db.upgrade")
    line = one_line(result)
    assert result.returncode == 1 and "DB_PASS (from .env)" in line
    assert "--destroy" not in line


def test_a_project_with_only_tool_alembic_works(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    (project.root / "alembic.ini").unlink()
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.alembic]\nscript_location = "%(here)s/alembic"\n'
    )
    result = project.inv("db.upgrade")
    assert result.returncode == 0, result.stderr
    assert "at head r002" in result.stdout


def test_alembic_config_names_another_ini(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    (project.root / "alembic.ini").rename(project.root / "migrations.ini")
    result = project.inv("db.upgrade", ALEMBIC_CONFIG="migrations.ini")
    assert result.returncode == 0, result.stderr


def test_adopt_reports_the_files_before_the_stack_is_up(project: ScratchProject) -> None:
    """The first of an adopting team's two commands, on a machine where nothing runs yet:
    env.py, the history and the baseline need no database."""
    write_chain(project.versions, 2)
    result = project.inv("db.adopt", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["database"] == "does not answer" and found["revisions"] == 2
    assert found["env_py"] == "dbtasks runtime" and found["env_problem"] is None
    assert any("inv db.upgrade" in step for step in found["next_steps"])
    assert "Traceback" not in result.stderr
    assert project.inv("db.upgrade").returncode == 0
    again = json.loads(project.inv("db.adopt", "--json").stdout)
    assert again["database"] == "answers" and again["current"] == ["r002"]
