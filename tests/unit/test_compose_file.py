"""The repository's docker-compose.yml, and the compose backend's pure helpers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dbtasks.settings.keys import KEYS
from dbtasks.stack.compose import last_words, project_name
from dbtasks.stack.engine import SERVICE, unreachable
from tests.support import REPO

COMPOSE = (REPO / "docker-compose.yml").read_text()
DEFAULT_IMAGE = next(k.default for k in KEYS if k.env == "DB_IMAGE")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE))


def test_image_is_db_image_defaulting_to_the_settings_default(spec: dict[str, Any]) -> None:
    assert spec["services"][SERVICE]["image"] == f"${{DB_IMAGE:-{DEFAULT_IMAGE}}}"
    assert re.fullmatch(r"supabase/postgres:\d+\.\d+\.\d+\.\d+", DEFAULT_IMAGE)


def test_no_fixed_project_name(spec: dict[str, Any]) -> None:
    # dbtasks passes `-p` per checkout; a `name:` would make every clone share one volume.
    assert "name" not in spec


def test_command_uses_the_config_path_both_images_have(spec: dict[str, Any]) -> None:
    command = spec["services"][SERVICE]["command"]
    assert command == ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]
    conf = (REPO / "docker" / "standin" / "postgresql.conf").read_text()
    assert "listen_addresses = '*'" in conf


def test_stop_is_a_fast_shutdown(spec: dict[str, Any]) -> None:
    assert spec["services"][SERVICE]["stop_signal"] == "SIGINT"


def test_healthcheck_runs_a_real_query_with_the_password(spec: dict[str, Any]) -> None:
    check = " ".join(spec["services"][SERVICE]["healthcheck"]["test"])
    assert "psql" in check and "select 1" in check and "POSTGRES_PASSWORD" in check


def test_port_is_db_port_on_loopback_to_5432(spec: dict[str, Any]) -> None:
    assert spec["services"][SERVICE]["ports"] == ["127.0.0.1:${DB_PORT:-54322}:5432"]


def test_password_and_database_come_from_settings(spec: dict[str, Any]) -> None:
    env = spec["services"][SERVICE]["environment"]
    assert env["POSTGRES_PASSWORD"] == "${DB_PASS:-postgres}"
    assert env["POSTGRES_DB"] == "${DB_NAME:-mindmirror}"


def test_named_volume_holds_the_data(spec: dict[str, Any]) -> None:
    assert "db-data:/var/lib/postgresql/data" in spec["services"][SERVICE]["volumes"]
    assert "db-data" in spec["volumes"]


def test_other_services_only_behind_profiles(spec: dict[str, Any]) -> None:
    others = {name: svc for name, svc in spec["services"].items() if name != SERVICE}
    assert others
    assert all(svc.get("profiles") for svc in others.values())


def test_every_variable_is_documented() -> None:
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", COMPOSE))
    assert "DB_IMAGE" in used
    example = (REPO / ".env.example").read_text()
    assert {v for v in used if f"{v}=" not in example} == set()


def test_project_name_is_readable_and_unique_per_checkout(tmp_path: Path) -> None:
    one, two = tmp_path / "a" / "MindMirror App", tmp_path / "b" / "MindMirror App"
    name = project_name(one)
    assert name.startswith("mindmirror-app-")
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name)  # what compose accepts
    assert name == project_name(one)
    assert name != project_name(two)


def test_project_name_of_an_unreadable_directory_name() -> None:
    assert re.fullmatch(r"dbtasks-[0-9a-f]{8}", project_name(Path("/")))
    assert re.fullmatch(r"dbtasks-[0-9a-f]{8}", project_name(Path("/srv/..._")))


@pytest.mark.parametrize(
    ("detail", "says", "hint"),
    [
        (
            "Error while fetching server API version: ('Connection aborted.', "
            "FileNotFoundError(2, 'No such file or directory'))",
            "not running",
            "start Docker",
        ),
        (
            "Error while fetching server API version: ('Connection aborted.', "
            "PermissionError(13, 'Permission denied'))",
            "permission denied",
            "docker group",
        ),
        (
            "HTTPConnectionPool(host='docker.example.invalid', port=2375): Read timed out.",
            "cannot reach",
            "DOCKER_HOST",
        ),
    ],
)
def test_unreachable_engine_says_why(detail: str, says: str, hint: str) -> None:
    error = unreachable("unix:///var/run/docker.sock", detail)
    assert says in error.message and hint in str(error.hint)
    assert "DB_BACKEND=native" in error.render()
    assert "\n" not in error.render()


def test_last_words_prefers_the_fatal_line() -> None:
    log = (
        "2026-01-01 LOG:  starting PostgreSQL 15\n"
        '2026-01-01 FATAL:  could not open file "/etc/postgresql/postgresql.conf"\n'
        "2026-01-01 LOG:  database system is shut down\n"
    )
    assert last_words(log) == 'FATAL:  could not open file "/etc/postgresql/postgresql.conf"'
    assert last_words("only a line\n\n") == "only a line"
    assert last_words("") == "it logged nothing"


def test_the_sdk_is_imported_only_when_the_compose_backend_runs() -> None:
    code = (
        "import sys, dbtasks.tasks, dbtasks.stack.compose;"
        "assert 'docker' not in sys.modules, 'docker imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    listing = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "invoke", "--list"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert listing.returncode == 0 and "stack.up" in listing.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in listing.stderr.splitlines()}
    assert "dbtasks.tasks.stack" in imported  # the listing did import the stack tasks
    assert {m for m in imported if m == "docker" or m.startswith("docker.")} == set()
