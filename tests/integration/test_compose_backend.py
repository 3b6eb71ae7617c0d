"""The compose backend's branches a real Docker engine cannot show, with a fake docker CLI.

tests/docker/ drives the backend against a real engine; here the docker CLI is a fake
behind ComposeStack's runner (the seam in front of `shell.run`) that answers by argument
list and records each call with its environment, and the engine is a stub, for what a
machine with a working Docker never shows: no docker binary, no compose plugin, no SDK, a
registry that cannot be reached. Two tests put a docker script (or none) on PATH, so the
real runner and `shell.run` are exercised too. The session cluster plays the container
where a real query is needed.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, cast

import pytest

from dbtasks import shell
from dbtasks.console import Console
from dbtasks.errors import ConfigError, ExitCode, StackError
from dbtasks.health import probe
from dbtasks.settings import Settings
from dbtasks.stack.compose import ComposeStack, project_name
from dbtasks.stack.engine import Container, Engine
from tests.support import REPO

if TYPE_CHECKING:
    from collections.abc import Mapping

    from docker import DockerClient

pytestmark = pytest.mark.integration
FILE = str(REPO / "docker-compose.yml")
CONTEXT = ["docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"]
PLUGIN = ["docker", "compose", "version", "--short"]
HOST = "unix:///run/user/1000/docker.sock"
COMPOSE_ENV = ("DB_IMAGE", "DB_PORT", "DB_PASS", "DB_NAME")

Answer = shell.Completed | shell.ProgramNotFound


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


class FakeDocker:
    """ComposeStack's runner without a docker CLI: answers each argument list it knows
    (a result, or the error `shell.run` raises), records every call and its environment."""

    def __init__(self, answers: dict[tuple[str, ...], Answer]) -> None:
        self.answers = answers
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def __call__(self, args: list[str], env: Mapping[str, str]) -> shell.Completed:
        self.calls.append((list(args), dict(env)))
        answer = self.answers.get(tuple(args))
        if answer is None:
            raise AssertionError(f"unexpected command: {args}")
        if isinstance(answer, shell.ProgramNotFound):
            raise answer
        return answer

    @property
    def commands(self) -> list[list[str]]:
        return [args for args, _ in self.calls]


def compose(settings: Settings, *args: str) -> list[str]:
    project = project_name(settings.project_root)
    return ["docker", "compose", "-p", project, "-f", FILE, *args]


def ok(stdout: str = "") -> shell.Completed:
    return shell.Completed([], 0, stdout, "")


def fake(*extra: tuple[list[str], Answer]) -> FakeDocker:
    """A docker CLI with its compose plugin, whose context names HOST, and `extra`."""
    known = [(CONTEXT, ok(HOST + "\n")), (PLUGIN, ok("2.40.3")), *extra]
    return FakeDocker({tuple(args): answer for args, answer in known})


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
    docker = fake((compose(settings, "up", "--detach", "db"), ok()))
    stack = ComposeStack(settings, docker, connect=lambda host: StubEngine("running", "running"))
    result = stack.up(Console(out=io.StringIO()))
    assert result.changed and "started" in result.message
    assert docker.commands == [CONTEXT, PLUGIN, compose(settings, "up", "--detach", "db")]
    assert probe(settings.endpoint).server_version  # DB_NAME now exists


def test_a_busy_port_stops_up_before_compose_runs(settings: Settings) -> None:
    docker = fake()  # the session cluster holds the port; our container is absent
    stack = ComposeStack(settings, docker, connect=lambda host: StubEngine(first=None))
    with pytest.raises(StackError, match=f"port {settings.endpoint.port} .* already in use"):
        stack.up(Console(out=io.StringIO()))
    assert docker.commands == [CONTEXT, PLUGIN]


def test_secrets_travel_in_the_environment(settings: Settings) -> None:
    docker = fake((compose(settings, "down"), ok()))
    ComposeStack(settings, docker, connect=lambda host: StubEngine()).down()
    assert len(docker.calls) == 3
    for args, env in docker.calls:
        assert all(settings.endpoint.password not in arg for arg in args)
        assert env["DB_PASS"] == settings.endpoint.password
        assert env["DB_PORT"] == str(settings.endpoint.port)
        assert env["DB_IMAGE"] == settings.image
        assert env["DB_NAME"] == settings.endpoint.database


def fake_docker_on_path(bin_dir: Path, log: Path) -> None:
    """A `docker` program that records its arguments and the compose variables it got."""
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"names = {[*COMPOSE_ENV, 'DBTASKS_CALLER_MARK']!r}\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    env = {n: os.environ.get(n) for n in names}\n"
        "    f.write(json.dumps({'args': sys.argv[1:], 'env': env}) + '\\n')\n"
        "if sys.argv[1:3] == ['context', 'inspect']:\n"
        f"    print({HOST!r})\n"
    )
    script.chmod(0o755)


def test_the_default_runner_is_shell_run_with_settings_on_top_of_the_callers_environment(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "docker.jsonl"
    fake_docker_on_path(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setenv("DBTASKS_CALLER_MARK", "inherited")
    monkeypatch.setenv("DB_PASS", "a stale password from the caller")
    ComposeStack(settings, connect=lambda host: StubEngine()).down()
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [["docker", *call["args"]] for call in calls] == [
        CONTEXT,
        PLUGIN,
        compose(settings, "down"),
    ]
    ep = settings.endpoint
    expected = {
        "DB_IMAGE": settings.image,
        "DB_PORT": str(ep.port),
        "DB_PASS": ep.password,  # not the caller's: the settings' come on top
        "DB_NAME": ep.database,
        "DBTASKS_CALLER_MARK": "inherited",
    }
    for call in calls:
        assert all(ep.password not in arg for arg in call["args"])
        assert call["env"] == expected


def test_the_sdk_talks_to_the_engine_the_cli_context_names(settings: Settings) -> None:
    hosts: list[str] = []

    def connect(host: str) -> Engine:
        hosts.append(host)
        return StubEngine()

    ComposeStack(settings, fake(), connect=connect).status()
    assert hosts == [HOST]


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        (CONTEXT, "docker is not installed"),
        (PLUGIN, "Docker Compose plugin is missing"),
    ],
)
def test_missing_docker_parts_say_what_to_do(
    settings: Settings, failing: list[str], message: str
) -> None:
    # What `shell.run` does: a missing program raises, a missing plugin exits 1.
    answer: Answer = shell.ProgramNotFound("docker")
    if failing == PLUGIN:
        answer = shell.Completed(failing, 1, "", "docker: 'compose' is not a docker command.")
    docker = fake((failing, answer))
    with pytest.raises(StackError) as info:
        ComposeStack(settings, docker, connect=lambda host: StubEngine()).up(Console())
    assert message in info.value.render()
    assert "DB_BACKEND=native" in info.value.render()
    assert info.value.exit_code == ExitCode.FAILED
    assert docker.commands[-1] == failing  # nothing runs after the failed check


def test_no_docker_on_path_says_to_install_it(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # the real runner, and nothing to run
    with pytest.raises(StackError) as info:
        ComposeStack(settings, connect=lambda host: StubEngine()).up(Console())
    assert info.value.message == "docker is not installed or not on PATH"
    assert "DB_BACKEND=native" in info.value.render()


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
        ComposeStack(settings, fake()).status()
    assert "dbtasks[compose]" in info.value.render()


def test_missing_compose_file_is_bad_configuration(settings: Settings, tmp_path: Path) -> None:
    absent = replace(settings, compose_file=tmp_path / "nope.yml")
    with pytest.raises(ConfigError, match="DB_COMPOSE_FILE") as info:
        ComposeStack(absent, fake(), connect=lambda host: StubEngine()).status()
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_an_image_that_cannot_be_pulled_names_it(settings: Settings) -> None:
    up = compose(settings, "up", "--detach", "db")
    failure = shell.Completed(
        up, 1, "", "Error response from daemon: Get https://r/v2/: no such host\n"
    )
    docker = fake((up, failure))
    stack = ComposeStack(settings, docker, connect=lambda host: StubEngine(image_present=False))
    with pytest.raises(StackError) as info:
        stack.up(Console(out=io.StringIO()))
    assert f"cannot pull {settings.image}" in info.value.message
    assert "DB_IMAGE" in str(info.value.hint)
