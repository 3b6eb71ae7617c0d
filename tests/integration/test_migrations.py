"""The migration workflow on real databases: the original plan's cases and more."""

from __future__ import annotations

import io

import psycopg2
import pytest

from dbtasks.adapter.run import MigrationFailed
from dbtasks.console import Console
from dbtasks.errors import ConfigError, DbTasksError, ExitCode, HealthError, Refused
from dbtasks.stack import ensure_ready
from dbtasks.supabase import MANAGED_SCHEMAS
from tests import flows as commands
from tests.projects import SMALL_MODELS, ScratchProject, write_chain
from tests.support import HOSTILE_PASSWORD, free_port

pytestmark = pytest.mark.integration


def quiet() -> Console:
    return Console(out=io.StringIO(), err=io.StringIO())


def tables(project: ScratchProject) -> set[str]:
    rows = project.query("SELECT tablename FROM pg_tables WHERE schemaname = 'app'")
    return {str(r[0]) for r in rows}


# -- init ------------------------------------------------------------------------------------


def test_init_fresh_database(project: ScratchProject) -> None:
    final = commands.init(project.settings(), quiet())
    assert final.at_head and len(final.current) == 1
    assert len(project.revision_files()) == 1
    assert tables(project) == {"notes", "alembic_version", "dbtasks_revision_log"}


def test_init_mindmirror_models(mindmirror: ScratchProject) -> None:
    final = commands.init(mindmirror.settings(), quiet())
    assert final.at_head
    assert {
        "profiles",
        "journal_entries",
        "tags",
        "entry_tags",
        "agent_conversations",
        "agent_messages",
    } <= tables(mindmirror)


def test_init_existing_database(project: ScratchProject) -> None:
    commands.init(project.settings(), quiet())
    with pytest.raises(DbTasksError) as info:
        commands.init(project.settings(), quiet())
    assert info.value.exit_code == ExitCode.FAILED
    assert "already initialized at" in info.value.render()
    assert "inv db.upgrade" in info.value.render()


def test_init_connection_failure(project: ScratchProject) -> None:
    settings = project.settings(
        DB_BACKEND="external", DB_PORT=str(free_port()), DB_HEALTH_TIMEOUT="0.5"
    )
    with pytest.raises(HealthError) as info:
        commands.init(settings, quiet())
    assert info.value.exit_code == ExitCode.FAILED
    assert "connection refused" in info.value.render()
    assert project.revision_files() == []


# -- revision --------------------------------------------------------------------------------


def test_revision_creates_migration(project: ScratchProject) -> None:
    commands.init(project.settings(), quiet())
    project.write_models(
        SMALL_MODELS.replace(
            'Column("body", String(200), nullable=False))',
            'Column("body", String(200), nullable=False), Column("mood", Integer))',
        )
    )
    new = commands.revision(project.settings(), quiet(), "add mood")
    assert new.operations == ["add column notes.mood"]
    assert new.path is not None and new.path.endswith("_add_mood.py")
    assert len(project.revision_files()) == 2


def test_revision_no_changes(project: ScratchProject) -> None:
    commands.init(project.settings(), quiet())
    new = commands.revision(project.settings(), quiet(), "nothing")
    assert new.path is None
    assert len(project.revision_files()) == 1


@pytest.mark.parametrize("message", ["", "   ", "line\nbreak", "x" * 150, "..."])
def test_revision_invalid_message(project: ScratchProject, message: str) -> None:
    with pytest.raises(ConfigError):
        commands.revision(project.settings(), quiet(), message)
    assert project.revision_files() == []


def test_revision_refuses_when_not_at_head(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    with pytest.raises(DbTasksError, match="not at head") as info:
        commands.revision(project.settings(), quiet(), "too early")
    assert "inv db.upgrade" in info.value.render()


def test_revision_empty_needs_no_database(project: ScratchProject) -> None:
    new = commands.revision(
        project.settings(DB_PORT=str(free_port())), quiet(), "data fix", empty=True
    )
    assert new.operations == []
    assert new.path is not None and "data_fix" in new.path


SUPABASE_SCHEMAS = sorted(MANAGED_SCHEMAS | {"public"})


def test_autogenerate_ignores_other_schemas(project: ScratchProject) -> None:
    commands.init(project.settings(), quiet())
    query_commit(
        project,
        "".join(
            f"CREATE SCHEMA IF NOT EXISTS {s}; CREATE TABLE {s}.stub_{s} (id int primary key);"
            f"CREATE INDEX ON {s}.stub_{s} (id);"
            for s in SUPABASE_SCHEMAS
        ),
    )
    assert commands.revision(project.settings(), quiet(), "nothing to see").path is None


# -- upgrade ---------------------------------------------------------------------------------


def test_upgrade_applies_pending_migrations(project: ScratchProject) -> None:
    write_chain(project.versions, 3)
    out = io.StringIO()
    final = commands.upgrade(project.settings(), Console(out=out))
    assert final is not None and final.current == ("r003",)
    assert {"t001", "t002", "t003"} <= tables(project)
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines if line.startswith("✓ [")] == [
        "[1/3]",
        "[2/3]",
        "[3/3]",
    ]


def test_upgrade_no_pending_migrations(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    commands.upgrade(project.settings(), quiet())
    out = io.StringIO()
    commands.upgrade(project.settings(), Console(out=out))
    assert "already at head r002" in out.getvalue()


def test_upgrade_failure_handling(project: ScratchProject) -> None:
    write_chain(project.versions, 5, fail_at=3)
    with pytest.raises(MigrationFailed) as info:
        commands.upgrade(project.settings(), quiet())
    message = info.value.render()
    assert "revision r003" in message and "003_r003.py" in message
    assert "no_such_table" in message
    assert "2 earlier revision(s) stayed applied" in message
    assert project.query("SELECT version_num FROM app.alembic_version") == [("r002",)]
    assert "t003" not in tables(project)


def test_upgrade_to_a_target(project: ScratchProject) -> None:
    write_chain(project.versions, 4)
    final = commands.upgrade(project.settings(), quiet(), target="r002")
    assert final is not None and final.current == ("r002",)
    assert len(final.pending) == 2


def test_upgrade_offline_sql_changes_nothing(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    ensure_ready(project.settings(), quiet())
    out = project.inv("db.upgrade", "--sql").stdout
    assert "CREATE TABLE t001" in out and "CREATE TABLE t002" in out
    assert "SET search_path TO app" in out
    assert tables(project) == set()


def test_hostile_password_with_percent(project: ScratchProject) -> None:
    assert "%" in project.settings().endpoint.password == HOSTILE_PASSWORD
    write_chain(project.versions, 1)
    final = commands.upgrade(project.settings(), quiet())
    assert final is not None and final.at_head


# -- downgrade -------------------------------------------------------------------------------


def test_downgrade_to_valid_revision(project: ScratchProject) -> None:
    write_chain(project.versions, 3)
    commands.upgrade(project.settings(), quiet())
    final = commands.downgrade(project.settings(), quiet(), "r001", yes=True)
    assert final is not None and final.current == ("r001",)
    assert "t002" not in tables(project) and "t001" in tables(project)


def test_downgrade_relative_and_base(project: ScratchProject) -> None:
    write_chain(project.versions, 3)
    commands.upgrade(project.settings(), quiet())
    commands.downgrade(project.settings(), quiet(), "-1", yes=True)
    assert project.query("SELECT version_num FROM app.alembic_version") == [("r002",)]
    commands.downgrade(project.settings(), quiet(), "base", yes=True)
    assert project.query("SELECT count(*) FROM app.alembic_version") == [(0,)]


def test_downgrade_invalid_revision(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    commands.upgrade(project.settings(), quiet())
    with pytest.raises(ConfigError, match="did you mean r001"):
        commands.downgrade(project.settings(), quiet(), "r0001", yes=True)


def test_downgrade_confirmation(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    commands.upgrade(project.settings(), quiet())
    with pytest.raises(Refused) as info:  # stdin is not a terminal under pytest
        commands.downgrade(project.settings(), quiet(), "-1", yes=False)
    assert info.value.exit_code == ExitCode.REFUSED
    assert project.query("SELECT version_num FROM app.alembic_version") == [("r002",)]


def test_downgrade_offline_sql(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    commands.upgrade(project.settings(), quiet())
    result = project.inv("db.downgrade", "-1", "--sql")
    assert result.returncode == 0, result.stderr
    assert "DROP TABLE t002" in result.stdout
    assert "t002" in tables(project)


# -- status ----------------------------------------------------------------------------------


def test_status_shows_current_revision(project: ScratchProject) -> None:
    write_chain(project.versions, 3)
    commands.upgrade(project.settings(), quiet(), target="r002")
    report = commands.current_status(project.settings(), quiet())
    assert report.current == ("r002",) and report.heads == ("r003",)
    assert [r.id for r in report.pending] == ["r003"]
    assert not report.at_head
    assert "***" in report.url and HOSTILE_PASSWORD not in report.url


def test_status_no_migrations(project: ScratchProject) -> None:
    ensure_ready(project.settings(), quiet())
    report = commands.current_status(project.settings(), quiet())
    assert report.current == () and report.heads == ()
    assert report.at_head and report.summary() == "no migrations yet"


def test_status_unknown_database_revision(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    commands.upgrade(project.settings(), quiet())
    (project.versions / "002_r002.py").unlink()
    report = commands.current_status(project.settings(), quiet())
    assert report.unknown == ["r002"] and not report.at_head
    assert any("no script defines" in w for w in report.warnings)
    with pytest.raises(DbTasksError, match="which no revision file defines"):
        commands.upgrade(project.settings(), quiet())


def query_commit(project: ScratchProject, sql: str) -> None:
    conn = psycopg2.connect(**project.settings().endpoint.connect_kwargs())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()
