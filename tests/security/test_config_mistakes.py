"""Configuration mistakes are named, not silently turned into another target: a misspelt
`DB_ENV` would switch the production guard off, a parent's `.env` would point a
sub-project at someone else's database."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.errors import DbTasksError
from dbtasks.settings import load_settings
from tests.security import REMOTE, clean_environ, find_project_root, inv, output, tasks_project
from tests.security import verdict as judge
from tests.support import free_port

REMOTE_URL = f"postgresql://u:p@{REMOTE}:5432/app"


def offline_env(root: Path) -> dict[str, str]:
    """`inv stack.logs` with these settings reads a log file and nothing else."""
    return clean_environ(
        DB_PASS="not-the-secret", DB_PORT=str(free_port()), DB_DATA_DIR=str(root / "pgdata")
    )


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("line", "key", "meant"),
    [
        ("DB_ENVIRONMENT=production", "DB_ENVIRONMENT", "DB_ENV"),
        ("db_env=production", "db_env", "DB_ENV"),
        ("DB_PASSWORD=Hunter2pa55word", "DB_PASSWORD", "DB_PASS"),
        (f"DB_HOSTNAME={REMOTE}", "DB_HOSTNAME", "DB_HOST"),
    ],
)
def test_misspelt_dotenv_key_is_one_warning_line_naming_the_nearest_key(
    tmp_path: Path, line: str, key: str, meant: str
) -> None:
    root = tasks_project(tmp_path)
    (root / ".env").write_text(line + "\n")
    result = inv(root, "stack.logs", env=offline_env(root))
    assert result.returncode == 0, output(result)
    named = [text for text in result.stderr.splitlines() if key in text]
    assert len(named) == 1 and meant in named[0], output(result)
    assert line.partition("=")[2] not in result.stderr  # the value may be a secret


@pytest.mark.parametrize(
    ("line", "meant"),
    [("DBENV=production", "DB_ENV"), (f"DATABSE_URL={REMOTE_URL}", "DATABASE_URL")],
)
def test_misspelt_dotenv_key_without_the_db_prefix_is_named(
    tmp_path: Path, line: str, meant: str
) -> None:
    (tmp_path / ".env").write_text(line + "\n")
    settings = load_settings(environ={"DB_PASS": "x"}, root=tmp_path)
    key = line.partition("=")[0]
    assert any(key in w and meant in w for w in settings.warnings), settings.warnings


@pytest.mark.e2e
@pytest.mark.parametrize("entry", ['enviroment = "production"', 'db_env = "prod"', "x = 1"])
def test_unknown_pyproject_key_is_exit_2_naming_it(tmp_path: Path, entry: str) -> None:
    root = tasks_project(tmp_path, f"[tool.dbtasks]\n{entry}\n")
    result = inv(root, "stack.logs", env=offline_env(root))
    assert result.returncode == 2, output(result)
    assert repr(entry.split(" ")[0]) in result.stderr


def test_unknown_pyproject_key_suggests_the_nearest(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dbtasks]\nenviroment = "production"\n')
    with pytest.raises(DbTasksError) as info:
        load_settings(environ={"DB_PASS": "x"}, root=tmp_path)
    assert info.value.exit_code == 2
    assert "environment" in info.value.render().replace("'enviroment'", "")


@pytest.mark.parametrize("key", ["DB_HOST", "DB_NAME", "DB_PORT"])
def test_dotenv_url_never_beats_a_connection_key_of_the_environment(
    tmp_path: Path, key: str
) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL={REMOTE_URL}\n")
    value = {"DB_HOST": "127.0.0.1", "DB_NAME": "app", "DB_PORT": "54399"}[key]
    found = judge(tmp_path, {key: value})
    assert found.code == 0 and REMOTE not in found.message, found


def test_ignored_dotenv_url_is_named_in_a_warning(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL={REMOTE_URL}\n")
    settings = load_settings(environ={"DB_HOST": "127.0.0.1", "DB_PASS": "x"}, root=tmp_path)
    assert any("DATABASE_URL" in w and "DB_HOST" in w for w in settings.warnings)


def test_environment_url_still_beats_dotenv_keys(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DB_HOST={REMOTE}\nDB_NAME=elsewhere\n")
    found = judge(tmp_path, {"DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/app"})
    assert found.code == 0 and REMOTE not in found.message, found


def monorepo(tmp_path: Path, marker: str) -> Path:
    """A parent project whose `.env` names a remote production database, and a sub-project
    marked only by `marker`; returns the sub-project."""
    (tmp_path / "pyproject.toml").write_text("[tool.dbtasks]\n")
    (tmp_path / ".env").write_text(f"DATABASE_URL={REMOTE_URL}\nDB_ENV=production\n")
    sub = tmp_path / "services" / "api"
    sub.mkdir(parents=True)
    (sub / marker).write_text("")
    return sub


@pytest.mark.parametrize("marker", ["tasks.py", "alembic.ini", "pyproject.toml"])
def test_parent_dotenv_is_never_read_by_a_sub_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marker: str
) -> None:
    sub = monorepo(tmp_path, marker)
    assert find_project_root(sub) == sub
    monkeypatch.chdir(sub)
    settings = load_settings(environ={"DB_PASS": "x"})
    assert settings.project_root == sub
    assert settings.endpoint.host == "127.0.0.1" and not settings.is_production


def test_a_directory_inside_a_project_finds_that_project(tmp_path: Path) -> None:
    sub = monorepo(tmp_path, "tasks.py")
    (sub / "src" / "app").mkdir(parents=True)
    assert find_project_root(sub / "src" / "app") == sub


@pytest.mark.parametrize(
    "user", ["o'brien", "my user", "pg_admin", "PG_Admin", '"quoted"', "semi;colon"]
)
def test_user_initdb_cannot_take_is_exit_2_for_native(tmp_path: Path, user: str) -> None:
    with pytest.raises(DbTasksError) as info:
        load_settings(environ={"DB_USER": user, "DB_PASS": "x"}, root=tmp_path)
    assert info.value.exit_code == 2 and "DB_USER" in info.value.render()


def test_url_user_initdb_cannot_take_is_exit_2_for_native(tmp_path: Path) -> None:
    url = "postgresql://pg_admin:p@127.0.0.1:5432/app"
    assert judge(tmp_path, {"DATABASE_URL": url}).code == 2


@pytest.mark.parametrize("user", ["my user", "pg_admin"])
def test_such_users_stay_allowed_on_a_database_dbtasks_does_not_create(
    tmp_path: Path, user: str
) -> None:
    env = {"DB_USER": user, "DB_HOST": REMOTE}
    assert judge(tmp_path, env, allow_remote=True).code == 0
