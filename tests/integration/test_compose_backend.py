"""The compose backend's branches a real Docker engine cannot show, with MockContext.

tests/docker/ drives the backend against a real engine; here the docker CLI is Invoke's
MockContext and the engine a stub, for what a machine with a working Docker never shows:
no docker binary, no compose plugin, no SDK, a registry that cannot be reached. The
session cluster plays the container where a real query is needed.
"""

from __future__ import annotations

import io
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, cast
from unittest.mock import Mock

import pytest
from invoke.context import MockContext
from invoke.runners import Result

from dbtasks.console import Console
from dbtasks.errors import ConfigError, ExitCode, StackError
from dbtasks.health import probe
from dbtasks.settings import Settings
from dbtasks.stack.compose import ComposeStack, project_name
from dbtasks.stack.engine import Container, Engine
from tests.support import REPO

if TYPE_CHECKING:
    from docker import DockerClient

pytestmark = pytest.mark.integration
FILE = str(REPO / "docker-compose.yml")
CONTEXT = "docker context inspect --format '{{.Endpoints.docker.Host}}'"
PLUGIN = "docker compose version --short"
HOST = "unix:///run/user/1000/docker.sock"


class StubEngine(Engine):
    """An engine that answers from fields: its db container is `first` when first asked
    (None: absent), `then` afterwards."""

    def __init__(
        self, first: str | None = "running", then: str = "running", image_present: bool = True
    ) -> None:
        super().__init__(cast("DockerClient", None), HOST)
        self.first, self.then = first, then
        self.image_present = image_present
        self.asked = 0

    def container(self, project: str) -> Container | None:
        self.asked += 1
        state = self.first if self.asked == 1 else self.then
        if state is None:
            return None
        ident = "first" if self.asked == 1 else "then"  # `compose up` made a new container
        return Container(ident, f"{project}-db-1", state, None, "i", 0)

    def version(self) -> str:
        return "stub"

    def logs(self, project: str, lines: int) -> str | None:
        return None

    def leftovers(self, project: str) -> list[str]:
        return []

    def has_image(self, image: str) -> bool:
        return self.image_present


def compose(settings: Settings, *args: str) -> str:
    project = project_name(settings.project_root)
    return shlex.join(["docker", "compose", "-p", project, "-f", FILE, *args])


def ok(stdout: str = "") -> Result:
    return Result(stdout=stdout, exited=0)


def mock(**extra: Result) -> MockContext:
    return MockContext(run={CONTEXT: ok(HOST + "\n"), PLUGIN: ok("2.40.3"), **extra})


def commands(ctx: MockContext) -> list[str]:
    return [call.args[0] for call in cast(Mock, ctx.run).call_args_list]


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
        image="dbtasks-standin/supabase-postgres:15",
        project_root=REPO,
    )


def test_up_runs_compose_then_a_real_query_and_creates_the_database(settings: Settings) -> None:
    # A running container that `compose up` replaces (changed settings): the session
    # cluster answers for the new one.
    ctx = mock(**{compose(settings, "up", "--detach", "db"): ok()})
    stack = ComposeStack(settings, ctx, connect=lambda host: StubEngine("running", "running"))
    result = stack.up(Console(out=io.StringIO()))
    assert result.changed and "started" in result.message
    assert commands(ctx) == [CONTEXT, PLUGIN, compose(settings, "up", "--detach", "db")]
    assert probe(settings.endpoint).server_version  # DB_NAME now exists


def test_a_busy_port_stops_up_before_compose_runs(settings: Settings) -> None:
    ctx = mock()  # the session cluster holds the port; our container is absent
    stack = ComposeStack(settings, ctx, connect=lambda host: StubEngine(first=None))
    with pytest.raises(StackError, match=f"port {settings.endpoint.port} .* already in use"):
        stack.up(Console(out=io.StringIO()))
    assert commands(ctx) == [CONTEXT, PLUGIN]


def test_secrets_travel_in_the_environment(settings: Settings) -> None:
    ctx = mock(**{compose(settings, "down"): ok()})
    ComposeStack(settings, ctx, connect=lambda host: StubEngine()).down()
    calls = cast(Mock, ctx.run).call_args_list
    assert len(calls) == 3
    for call in calls:
        assert settings.endpoint.password not in call.args[0]
        assert call.kwargs["env"]["DB_PASS"] == settings.endpoint.password
        assert call.kwargs["env"]["DB_PORT"] == str(settings.endpoint.port)
        assert call.kwargs["env"]["DB_IMAGE"] == settings.image


def test_the_sdk_talks_to_the_engine_the_cli_context_names(settings: Settings) -> None:
    hosts: list[str] = []

    def connect(host: str) -> Engine:
        hosts.append(host)
        return StubEngine()

    ComposeStack(settings, mock(), connect=connect).status()
    assert hosts == [HOST]


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        (CONTEXT, "docker is not installed"),
        (PLUGIN, "Docker Compose plugin is missing"),
    ],
)
def test_missing_docker_parts_say_what_to_do(
    settings: Settings, failing: str, message: str
) -> None:
    code = 127 if failing == CONTEXT else 1  # what bash answers for a missing program
    ctx = mock(**{failing: Result(stderr="not found", exited=code)})
    with pytest.raises(StackError) as info:
        ComposeStack(settings, ctx, connect=lambda host: StubEngine()).up(Console())
    assert message in info.value.render()
    assert "DB_BACKEND=native" in info.value.render()
    assert info.value.exit_code == ExitCode.FAILED
    assert commands(ctx)[-1] == failing  # nothing runs after the failed check


@pytest.mark.parametrize(
    "stand_in",
    [None, ModuleType("docker")],
    ids=["not installed", "a docker/ directory imported as a namespace package"],
)
def test_missing_sdk_says_which_extra_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, stand_in: ModuleType | None
) -> None:
    monkeypatch.setitem(sys.modules, "docker", stand_in)  # None: `import docker` fails
    with pytest.raises(StackError, match=r"Docker SDK for Python") as info:
        ComposeStack(settings, mock()).status()
    assert "dbtasks[compose]" in info.value.render()


def test_missing_compose_file_is_bad_configuration(settings: Settings, tmp_path: Path) -> None:
    absent = replace(settings, compose_file=tmp_path / "nope.yml")
    with pytest.raises(ConfigError, match="DB_COMPOSE_FILE") as info:
        ComposeStack(absent, mock(), connect=lambda host: StubEngine()).status()
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_an_image_that_cannot_be_pulled_names_it(settings: Settings) -> None:
    failure = Result(
        stderr="Error response from daemon: Get https://r/v2/: no such host\n", exited=1
    )
    ctx = mock(**{compose(settings, "up", "--detach", "db"): failure})
    stack = ComposeStack(settings, ctx, connect=lambda host: StubEngine(image_present=False))
    with pytest.raises(StackError) as info:
        stack.up(Console(out=io.StringIO()))
    assert f"cannot pull {settings.image}" in info.value.message
    assert "DB_IMAGE" in str(info.value.hint)
