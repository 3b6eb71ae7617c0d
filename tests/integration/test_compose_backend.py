"""The compose backend with Invoke's MockContext standing in for the Docker engine.

No Docker engine runs here, so each command's exact string is asserted; health checks and
database creation still hit the real session cluster, which plays the container.
"""

from __future__ import annotations

import io
import json
import shlex
from dataclasses import replace
from pathlib import Path
from typing import cast
from unittest.mock import Mock

import pytest
from invoke.context import MockContext
from invoke.runners import Result

from dbtasks.console import Console
from dbtasks.errors import ExitCode, StackError
from dbtasks.health import probe
from dbtasks.reset import ResetOptions, reset
from dbtasks.settings import Settings, load_settings
from dbtasks.stack.compose import ComposeStack
from tests.support import REPO

pytestmark = pytest.mark.integration
FILE = str(REPO / "docker-compose.yml")
PREFLIGHT = [
    "docker --version",
    "docker compose version",
    "docker info --format '{{.ServerVersion}}'",
]
RUNNING = json.dumps(
    {
        "Service": "db",
        "Name": "mindmirror-db-1",
        "State": "running",
        "Health": "healthy",
        "Image": "supabase/postgres:17.6.1.136",
    }
)


def compose(*args: str) -> str:
    return shlex.join(["docker", "compose", "-f", FILE, *args])


def ok(stdout: str = "") -> Result:
    return Result(stdout=stdout, exited=0)


@pytest.fixture
def settings(cluster: Settings, tmp_path: Path) -> Settings:
    """Compose settings whose 'container' is the session cluster, on a fresh database."""
    endpoint = replace(cluster.endpoint, database=f"compose_{tmp_path.name[-12:].lower()}")
    return replace(
        cluster,
        backend="compose",
        compose_file=REPO / "docker-compose.yml",
        native_user=None,
        endpoint=endpoint,
    )


def mock(**extra: Result) -> MockContext:
    results = {cmd: ok("24.0.7") for cmd in PREFLIGHT}
    results.update(extra)
    return MockContext(run=results)


def commands(ctx: MockContext) -> list[str]:
    return [call.args[0] for call in cast(Mock, ctx.run).call_args_list]


def test_up_starts_and_waits_then_creates_the_database(settings: Settings) -> None:
    ctx = mock(
        **{
            compose("ps", "--all", "--format", "json"): ok(""),
            compose("up", "--detach", "--wait", "db"): ok(),
        }
    )
    result = ComposeStack(settings, ctx).up(Console(out=io.StringIO()))
    assert result.changed
    assert commands(ctx) == [
        *PREFLIGHT,
        compose("ps", "--all", "--format", "json"),
        compose("up", "--detach", "--wait", "db"),
    ]
    assert probe(settings.endpoint).server_version  # the database now exists


def test_secrets_travel_in_the_environment(settings: Settings) -> None:
    ctx = mock(**{compose("ps", "--all", "--format", "json"): ok(RUNNING)})
    ComposeStack(settings, ctx).up(Console(out=io.StringIO()))
    for call in cast(Mock, ctx.run).call_args_list:
        assert settings.endpoint.password not in call.args[0]
        assert call.kwargs["env"]["DB_PASS"] == settings.endpoint.password
        assert call.kwargs["env"]["DB_PORT"] == str(settings.endpoint.port)


def test_up_when_running_only_checks_health(settings: Settings) -> None:
    ctx = mock(**{compose("ps", "--all", "--format", "json"): ok(RUNNING)})
    result = ComposeStack(settings, ctx).up(Console(out=io.StringIO()))
    assert not result.changed
    assert compose("up", "--detach", "--wait", "db") not in commands(ctx)


def test_up_failure_shows_compose_error(settings: Settings) -> None:
    ctx = mock(
        **{
            compose("ps", "--all", "--format", "json"): ok(""),
            compose("up", "--detach", "--wait", "db"): Result(
                stderr="Error: port is already allocated\n", exited=1
            ),
        }
    )
    with pytest.raises(StackError, match="port is already allocated"):
        ComposeStack(settings, ctx).up(Console(out=io.StringIO()))


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        ("docker --version", "docker is not installed"),
        ("docker compose version", "Docker Compose plugin is missing"),
        ("docker info --format '{{.ServerVersion}}'", "Docker engine is not running"),
    ],
)
def test_preflight_failures_say_what_to_do(settings: Settings, failing: str, message: str) -> None:
    ctx = mock(**{failing: Result(stderr="boom", exited=127 if "version" in failing else 1)})
    with pytest.raises(StackError) as info:
        ComposeStack(settings, ctx).up(Console(out=io.StringIO()))
    assert message in info.value.render()
    assert "DB_BACKEND=native" in info.value.render()
    assert info.value.exit_code == ExitCode.FAILED
    assert commands(ctx)[-1] == failing  # nothing runs after the failed check


def test_down_and_destroy(settings: Settings) -> None:
    ctx = mock(**{compose("down"): ok(), compose("down", "--volumes", "--remove-orphans"): ok()})
    stack = ComposeStack(settings, ctx)
    assert stack.down() == "stopped"
    assert "volume" in stack.destroy()
    assert commands(ctx) == [
        *PREFLIGHT,
        compose("down"),
        *PREFLIGHT,
        compose("down", "--volumes", "--remove-orphans"),
    ]


def test_status_reads_compose_ps(settings: Settings) -> None:
    ctx = mock(**{compose("ps", "--all", "--format", "json"): ok(RUNNING + "\n")})
    report = ComposeStack(settings, ctx).status()
    assert report.running
    assert report.details["health"] == "healthy"
    assert report.details["image"].startswith("supabase/postgres:")


def test_status_when_absent(settings: Settings) -> None:
    ctx = mock(**{compose("ps", "--all", "--format", "json"): ok("[]")})
    report = ComposeStack(settings, ctx).status()
    assert not report.running
    assert report.details["state"] == "absent"


def test_logs(settings: Settings) -> None:
    ctx = mock(**{compose("logs", "--no-color", "--tail", "20", "db"): ok("LOG: ready\n")})
    assert ComposeStack(settings, ctx).logs(20) == "LOG: ready\n"


def test_reset_removes_the_volume_then_rebuilds(settings: Settings) -> None:
    ep = settings.endpoint
    project = load_settings(
        root=REPO,
        environ={
            "DB_BACKEND": "compose",
            "DB_PORT": str(ep.port),
            "DB_PASS": ep.password,
            "DB_NAME": ep.database,
        },
    )
    ctx = mock(
        **{
            compose("down", "--volumes", "--remove-orphans"): ok(),
            compose("ps", "--all", "--format", "json"): ok(""),
            compose("up", "--detach", "--wait", "db"): ok(),
        }
    )
    summary = reset(
        project,
        Console(out=io.StringIO()),
        ResetOptions(yes=True),
        stack=ComposeStack(project, ctx),
    )
    assert "at head" in summary
    ran = commands(ctx)
    assert ran.index(compose("down", "--volumes", "--remove-orphans")) < ran.index(
        compose("up", "--detach", "--wait", "db")
    )
