"""Settings precedence, one test per edge, and every bad-input case."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.errors import ConfigError, ExitCode
from dbtasks.settings import load_settings
from dbtasks.settings.keys import KEYS
from tests.support import HOSTILE_PASSWORD, REPO


def project(tmp_path: Path, pyproject: str = "", dotenv: str | None = None) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.dbtasks]\n{pyproject}")
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return tmp_path


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(environ={}, root=project(tmp_path))
    assert (s.endpoint.host, s.endpoint.port, s.endpoint.database) == (
        "127.0.0.1",
        54322,
        "app",
    )
    # Generic: MindMirror's own names are in its pyproject.toml, not the library's defaults.
    assert (s.endpoint.user, s.schema, s.backend) == ("postgres", "public", "native")
    assert s.data_dir == tmp_path / ".dbtasks" / "pgdata"


def test_pyproject_beats_default(tmp_path: Path) -> None:
    s = load_settings(environ={}, root=project(tmp_path, "port = 6000\n"))
    assert s.endpoint.port == 6000


def test_dotenv_beats_pyproject(tmp_path: Path) -> None:
    s = load_settings(environ={}, root=project(tmp_path, "port = 6000\n", "DB_PORT=6001\n"))
    assert s.endpoint.port == 6001


def test_environment_beats_dotenv(tmp_path: Path) -> None:
    root = project(tmp_path, "port = 6000\n", "DB_PORT=6001\n")
    assert load_settings(environ={"DB_PORT": "6002"}, root=root).endpoint.port == 6002


def test_flag_beats_environment(tmp_path: Path) -> None:
    root = project(tmp_path, "", "DB_HEALTH_TIMEOUT=5\n")
    s = load_settings({"health_timeout": "7"}, environ={"DB_HEALTH_TIMEOUT": "6"}, root=root)
    assert s.health_timeout == 7


def test_unset_flag_does_not_override(tmp_path: Path) -> None:
    s = load_settings(
        {"health_timeout": None}, environ={"DB_HEALTH_TIMEOUT": "6"}, root=project(tmp_path)
    )
    assert s.health_timeout == 6


def test_missing_dotenv_is_fine(tmp_path: Path) -> None:
    assert load_settings(environ={}, root=project(tmp_path)).endpoint.port == 54322


def test_dotenv_values_are_literal(tmp_path: Path) -> None:
    root = project(tmp_path, "", "DB_PASS='${HOME}x'\n")
    assert load_settings(environ={"HOME": "/root"}, root=root).endpoint.password == "${HOME}x"


def test_database_url_wins_over_db_keys(tmp_path: Path) -> None:
    env = {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": "1111",
        "DB_NAME": "ignored",
        "DATABASE_URL": "postgresql://app:secret@db.example.invalid:6000/appdb?sslmode=require",
    }
    s = load_settings(environ=env, root=project(tmp_path))
    ep = s.endpoint
    assert (ep.host, ep.port, ep.user, ep.database) == ("db.example.invalid", 6000, "app", "appdb")
    assert ep.query == {"sslmode": "require"}
    assert s.backend == "external"


def test_remote_host_defaults_to_external(tmp_path: Path) -> None:
    s = load_settings(environ={"DB_HOST": "db.internal.invalid"}, root=project(tmp_path))
    assert s.backend == "external"
    assert s.native_user is None


def test_explicit_backend_is_kept(tmp_path: Path) -> None:
    s = load_settings(environ={"DB_BACKEND": "External"}, root=project(tmp_path))
    assert s.backend == "external"


def test_hostile_password_from_dotenv(tmp_path: Path) -> None:
    root = project(tmp_path, "", f"DB_PASS='{HOSTILE_PASSWORD}'\n")
    assert load_settings(environ={}, root=root).endpoint.password == HOSTILE_PASSWORD


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DB_PORT": "abc"}, "DB_PORT='abc' is not a port number"),
        ({"DB_PORT": "0"}, "DB_PORT=0 is out of range"),
        ({"DB_PORT": "70000"}, "DB_PORT=70000 is out of range"),
        ({"DB_BACKEND": "kubernetes"}, "DB_BACKEND='kubernetes' is not a backend"),
        ({"DB_NAME": ""}, "DB_NAME is empty"),
        ({"DB_NAME": "x" * 64}, "63-byte name limit"),
        ({"DB_HEALTH_TIMEOUT": "-1"}, "greater than 0"),
        ({"DB_LOCK_TIMEOUT": "nan"}, "greater than 0"),
        ({"DB_LOCK": "maybe"}, "is not a boolean"),
        ({"DATABASE_URL": "mysql://u:pw@h/db"}, "the scheme must be postgresql://"),
        ({"DATABASE_URL": "postgresql://u:pw@h:99999/db"}, "is malformed"),
        ({"DATABASE_URL": "not a url"}, "is malformed"),
        ({"DATABASE_URL": "postgresql://u:pw@/db"}, "names no host"),
    ],
)
def test_bad_values_are_config_errors(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env, root=project(tmp_path))
    assert expected in info.value.render()
    assert info.value.exit_code == ExitCode.BAD_INPUT
    assert "\n" not in info.value.render()


def test_malformed_database_url_masks_password(tmp_path: Path) -> None:
    url = f"postgresql://u:{HOSTILE_PASSWORD}@host:xx/db"
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"DATABASE_URL": url}, root=project(tmp_path))
    assert HOSTILE_PASSWORD not in info.value.render()
    assert "DATABASE_URL is malformed" in info.value.render()


def test_bad_dotenv_line_names_line_not_content(tmp_path: Path) -> None:
    root = project(tmp_path, "", "DB_PORT=1\nDB_PASS='hunter2 unterminated\n")
    with pytest.raises(ConfigError, match=r"\.env line 2 cannot be parsed") as info:
        load_settings(environ={}, root=root)
    assert "hunter2" not in info.value.render()


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        load_settings(environ={"DB_DATA_DIR": str(tmp_path / "afile")}, root=project(tmp_path))


def test_unknown_pyproject_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key 'prot'"):
        load_settings(environ={}, root=project(tmp_path, "prot = 1\n"))


def test_error_names_its_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\(from \.env\)"):
        load_settings(environ={}, root=project(tmp_path, "", "DB_PORT=x\n"))


def test_env_example_documents_every_key() -> None:
    example = (REPO / ".env.example").read_text()
    missing = [k.env for k in KEYS if f"{k.env}=" not in example]
    assert missing == []
