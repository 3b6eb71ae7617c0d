"""The stack and health tasks through the real `inv` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import INV, Project
from tests.support import HOSTILE_PASSWORD, REPO

pytestmark = pytest.mark.e2e
HEAVY = ("sqlalchemy", "alembic", "rich")


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    """No secret and no traceback in anything a command printed."""
    output = result.stdout + result.stderr
    assert HOSTILE_PASSWORD not in output
    assert "Traceback" not in output


def test_list_imports_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *INV[1:], "--list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "stack.up" in result.stdout
    assert "db.health" in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert imported.isdisjoint(HEAVY)


def test_every_task_has_help() -> None:
    listing = subprocess.run(
        [*INV, "--list", "--list-format=json"], cwd=REPO, capture_output=True, text=True, check=True
    )
    names = task_names(json.loads(listing.stdout))
    assert {"stack.up", "stack.down", "db.health", "test"} <= set(names)
    for name in names:
        result = subprocess.run(
            [*INV, "--help", name], cwd=REPO, capture_output=True, text=True, check=True
        )
        assert "Docstring:\n  none" not in result.stdout, name
        assert "Docstring:" in result.stdout, name


def task_names(tree: dict, prefix: str = "") -> list[str]:  # type: ignore[type-arg]
    names = [prefix + t["name"] for t in tree["tasks"]]
    for sub in tree["collections"]:
        names += task_names(sub, f"{prefix}{sub['name']}.")
    return names


def test_up_health_status_logs_down(project: Project) -> None:
    up = project.inv("stack.up")
    assert up.returncode == 0, up.stderr
    assert "postgresql://postgres:***@127.0.0.1" in up.stdout
    again = project.inv("stack.up")
    assert "already running" in again.stdout
    health = project.inv("db.health", "--json")
    report = json.loads(health.stdout)
    assert report["healthy"] is True
    assert report["backend"] == "native"
    status = json.loads(project.inv("stack.status", "--json").stdout)
    assert status["running"] is True
    assert status["server_version"]
    logs = project.inv("stack.logs", "--lines", "5")
    assert 0 < len(logs.stdout.splitlines()) <= 5
    down = project.inv("stack.down")
    assert "stopped" in down.stdout
    for result in (up, again, health, logs, down):
        assert_clean(result)


def test_health_when_down_says_what_to_do(project: Project) -> None:
    result = project.inv("db.health")
    assert result.returncode == 1
    assert "connection refused" in result.stderr
    assert "inv stack.up" in result.stderr
    assert_clean(result)


def test_destroy_needs_yes_without_a_terminal(project: Project) -> None:
    assert project.inv("stack.up").returncode == 0
    refused = project.inv("stack.down", "--destroy", stdin="")
    assert refused.returncode == 4
    assert "--yes" in refused.stderr
    assert (project.root / "pgdata" / "PG_VERSION").exists()
    done = project.inv("stack.down", "--destroy", "--yes")
    assert done.returncode == 0, done.stderr
    assert not (project.root / "pgdata").exists()


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DB_PORT": "abc"}, "DB_PORT='abc'"),
        ({"DB_PORT": "99999"}, "DB_PORT=99999"),
        ({"DB_BACKEND": "podman"}, "DB_BACKEND='podman'"),
        (
            {"DATABASE_URL": f"postgresql://u:{HOSTILE_PASSWORD}@h:port/db"},
            "DATABASE_URL is malformed",
        ),
        ({"DB_NAME": ""}, "DB_NAME is empty"),
    ],
)
def test_bad_input_is_exit_2_and_one_line(
    project: Project, env: dict[str, str], needle: str
) -> None:
    for task in ("stack.up", "db.health"):
        result = project.inv(task, **env)
        assert result.returncode == 2, result.stderr
        assert needle in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert_clean(result)


def test_bad_dotenv_line_is_exit_2(project: Project) -> None:
    (project.root / ".env").write_text(f"DB_PASS='{HOSTILE_PASSWORD}\n")
    env = {k: v for k, v in project.env.items() if k != "DB_PASS"}
    result = subprocess.run(
        [*INV, "stack.up"], cwd=project.root, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert ".env line 1" in result.stderr
    assert_clean(result)


def test_data_dir_that_is_a_file_is_exit_2(project: Project) -> None:
    (project.root / "afile").write_text("")
    result = project.inv("stack.up", DB_DATA_DIR=str(project.root / "afile"))
    assert result.returncode == 2
    assert "is a file" in result.stderr
