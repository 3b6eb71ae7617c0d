"""The compose backend: a Postgres image (Supabase's by default) under `docker compose`.

The lifecycle (up, down, destroy) is the `docker compose` CLI, run through one seam as
argument lists, so `MockContext` tests see the exact commands. What the engine's API
answers better than CLI text (is an engine reachable and why not, the container's state
and logs, whether anything of the project is left) comes from the Docker SDK for Python,
an optional extra imported lazily, by this backend only. Secrets travel in the environment,
never on a command line: the compose file maps them (`DB_PASS` -> `POSTGRES_PASSWORD`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks.errors import ConfigError, HealthError, StackError
from dbtasks.health import (
    AUTH_FAILED,
    REFUSED,
    STARTING,
    TIMED_OUT,
    HealthReport,
    probe,
    wait_healthy,
)
from dbtasks.stack import StackStatus, UpResult, cluster

if TYPE_CHECKING:
    from invoke.context import Context
    from invoke.runners import Result

    from dbtasks.console import Console
    from dbtasks.settings import Settings
    from dbtasks.urls import Endpoint

if TYPE_CHECKING:
    # A block of its own: with tests/docker/ in a ruff src root, isort would class the
    # SDK as first-party and move it among our own imports.
    from docker import DockerClient

SERVICE = "db"
NATIVE_HINT = "or set DB_BACKEND=native to use the embedded Postgres"
PROJECT_LABEL = "com.docker.compose.project"
DEFAULT_HOST = "unix:///var/run/docker.sock"
_PORT_TAKEN = ("address already in use", "port is already allocated")


def project_name(root: Path) -> str:
    """`<directory>-<hash of its path>`: readable, and two checkouts never share a volume."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", root.name.lower()).strip("-_")[:40] or "dbtasks"
    return f"{slug}-{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class Container:
    """The db service's container as the engine reports it."""

    id: str
    name: str
    state: str  # created, running, restarting, exited, dead, ...
    health: str | None  # starting, healthy, unhealthy; None without a healthcheck
    image: str  # as configured, e.g. supabase/postgres:17.6.1.136
    exit_code: int


def unreachable(host: str, detail: str) -> StackError:
    """Why the engine at `host` does not answer, from the SDK's error text."""
    if "Permission denied" in detail:
        return StackError(
            f"permission denied on the Docker engine at {host}",
            "add your user to the docker group and log in again, " + NATIVE_HINT,
        )
    if any(s in detail for s in ("No such file", "Connection refused", "Connection aborted")):
        return StackError(
            f"the Docker engine is not running (nothing answers at {host})",
            "start Docker, " + NATIVE_HINT,
        )
    last = detail.strip().splitlines()[-1][:200] if detail.strip() else "no answer"
    return StackError(
        f"cannot reach the Docker engine at {host}: {last}", "check DOCKER_HOST, " + NATIVE_HINT
    )


class Engine:
    """The Docker engine's API, through the SDK; every failure becomes a StackError."""

    def __init__(self, client: DockerClient, host: str) -> None:
        self.client = client
        self.host = host

    @classmethod
    def connect(cls, host: str) -> Engine:
        try:
            import docker

            # Without the SDK, a `docker/` directory on sys.path (the repository's own,
            # once invoke adds the project root) imports as an empty namespace package.
            client_class = docker.DockerClient
        except (ImportError, AttributeError):
            raise StackError(
                "the compose backend needs the Docker SDK for Python",
                "pip install 'dbtasks[compose]', " + NATIVE_HINT,
            ) from None
        with answering(host):
            # Creating the client asks the engine for its API version: a real round trip.
            return cls(client_class(base_url=host, timeout=30), host)

    def version(self) -> str:
        with answering(self.host):
            return str(self.client.version().get("Version", "unknown"))

    def container(self, project: str) -> Container | None:
        found = self._containers(project, service=SERVICE)
        if not found:
            return None
        attrs = found[0].attrs
        state = attrs.get("State", {})
        return Container(
            id=str(attrs.get("Id", "")),
            name=str(attrs.get("Name", "")).lstrip("/"),
            state=str(state.get("Status", "unknown")),
            health=state.get("Health", {}).get("Status"),
            image=str(attrs.get("Config", {}).get("Image", "")),
            exit_code=int(state.get("ExitCode", 0)),
        )

    def logs(self, project: str, lines: int) -> str | None:
        found = self._containers(project, service=SERVICE)
        if not found:
            return None
        with answering(self.host):
            return bytes(found[0].logs(tail=lines)).decode("utf-8", "replace")

    def leftovers(self, project: str) -> list[str]:
        """Every container, volume and network still labelled with `project`."""
        label = {"label": f"{PROJECT_LABEL}={project}"}
        with answering(self.host):
            volumes = self.client.volumes.list(filters=label)
            networks = self.client.networks.list(filters=label)
        return [
            *(f"container {c.name}" for c in self._containers(project)),
            *(f"volume {v.name}" for v in volumes),
            *(f"network {n.name}" for n in networks),
        ]

    def has_image(self, image: str) -> bool:
        from docker.errors import ImageNotFound

        with answering(self.host):
            try:
                self.client.images.get(image)
            except ImageNotFound:
                return False
        return True

    def _containers(self, project: str, service: str | None = None) -> list[Any]:
        labels = [f"{PROJECT_LABEL}={project}"]
        if service:
            labels.append(f"com.docker.compose.service={service}")
        with answering(self.host):
            return list(self.client.containers.list(all=True, filters={"label": labels}))


@contextmanager
def answering(host: str) -> Iterator[None]:
    """SDK and transport errors (the engine stopped mid-way) as one-line StackErrors."""
    from docker.errors import APIError, DockerException
    from requests import RequestException

    try:
        yield
    except APIError as exc:
        raise StackError(
            f"the Docker engine refused: {exc.explanation or exc}", "see the engine's log"
        ) from None
    except (DockerException, RequestException) as exc:
        raise unreachable(host, str(exc)) from None


class ComposeStack:
    name = "compose"

    def __init__(
        self,
        settings: Settings,
        ctx: Context | None = None,
        connect: Callable[[str], Engine] = Engine.connect,
    ) -> None:
        from invoke.context import Context

        self.settings = settings
        self.ctx = ctx or Context()
        self.project = project_name(settings.project_root)
        self._connect = connect

    # -- the one seam ----------------------------------------------------------------------

    def compose(self, *args: str) -> list[str]:
        file = str(self.settings.compose_file)
        return ["docker", "compose", "-p", self.project, "-f", file, *args]

    def run(self, args: list[str]) -> Result:
        import shlex

        ep = self.settings.endpoint
        env = {
            "DB_IMAGE": self.settings.image,
            "DB_PORT": str(ep.port),
            "DB_PASS": ep.password,
            "DB_NAME": ep.database,
        }
        return self.ctx.run(shlex.join(args), hide=True, warn=True, env=env, in_stream=False)

    def check(self, args: list[str], what: str) -> Result:
        result = self.run(args)
        if not result.ok:
            raise StackError(f"{what} failed: {last_line(result)}", "see `inv stack.logs`")
        return result

    def preflight(self) -> Engine:
        """The docker CLI, its compose plugin and an answering engine, each with a next step."""
        where = self.run(["docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"])
        if where.exited == 127:
            raise StackError(
                "docker is not installed or not on PATH", "install Docker, " + NATIVE_HINT
            )
        if not self.run(["docker", "compose", "version", "--short"]).ok:
            raise StackError(
                "the Docker Compose plugin is missing",
                "install the docker-compose-plugin package, " + NATIVE_HINT,
            )
        if not self.settings.compose_file.is_file():
            raise ConfigError(
                f"DB_COMPOSE_FILE={str(self.settings.compose_file)!r} does not exist",
                "point it at the stack's docker-compose.yml",
            )
        # The SDK talks to the engine the CLI's current context names (Desktop, rootless).
        host = str(where.stdout).strip() if where.ok and where.stdout.strip() else DEFAULT_HOST
        return self._connect(host)

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, console: Console) -> UpResult:
        engine = self.preflight()
        before = engine.container(self.project)
        port = self.settings.endpoint.port
        if not (before and before.state == "running") and not cluster.port_free(port):
            raise port_taken(port)
        # One `compose up` at a time per checkout: parallel commands on a stopped stack
        # would otherwise race to create the same container.
        with (
            cluster.startup_lock(self.settings.data_dir),
            console.spinner(f"compose up: {self.settings.image} ({self.project})"),
        ):
            # Always `up`: a no-op when nothing changed, and compose alone knows whether a
            # changed DB_IMAGE, DB_PORT or DB_PASS needs the container recreated.
            self._start(engine)
            report = self._wait_ready(engine)
        after = engine.container(self.project)
        if before and after and before.id == after.id and before.state == "running":
            return UpResult(False, f"already running (PostgreSQL {report.server_version})")
        return UpResult(True, f"started on port {port} (PostgreSQL {report.server_version})")

    def _start(self, engine: Engine) -> None:
        result = self.run(self.compose("up", "--detach", SERVICE))
        if result.ok:
            return
        detail = last_line(result)
        if any(s in detail for s in _PORT_TAKEN):
            raise port_taken(self.settings.endpoint.port)
        if not engine.has_image(self.settings.image):  # still missing: the pull failed
            raise StackError(
                f"cannot pull {self.settings.image}: {detail}",
                "check the network, or set DB_IMAGE to an image `docker images` lists",
            )
        raise StackError(f"docker compose up failed: {detail}", "see `inv stack.logs`")

    def _wait_ready(self, engine: Engine) -> HealthReport:
        """A real query (the server first, then DB_NAME, created if missing), while the
        container lives: a crash stops the wait at once with the log's last words."""

        def attempt(endpoint: Endpoint, timeout: float) -> HealthReport:
            container = self._alive(engine)
            report = probe(endpoint, timeout)
            if container.health == "starting":  # so that `stack.status` says healthy next
                raise HealthError("the container's healthcheck has not passed yet", STARTING)
            return report

        ep, timeout = self.settings.endpoint, self.settings.health_timeout
        try:
            wait_healthy(replace(ep, database="postgres"), timeout, attempt=attempt)
            return cluster.ensure_database(ep, timeout)
        except HealthError as exc:
            if exc.reason == AUTH_FAILED:
                raise StackError(
                    f"the compose stack's database rejects DB_PASS for user {ep.user!r}: its "
                    "volume keeps the password it was first started with",
                    "set DB_PASS back, or run `inv stack.down --destroy --yes` to start afresh "
                    "(deletes its data)",
                ) from None
            if exc.reason not in (REFUSED, TIMED_OUT):
                raise
            raise StackError(
                f"the database container of {self.project} was not healthy within {timeout:g}s",
                "see `inv stack.logs`; a first start may need more: `inv stack.up --timeout 120`",
            ) from None

    def _alive(self, engine: Engine) -> Container:
        found = engine.container(self.project)
        if found is None or found.state in ("exited", "dead"):
            name = found.name if found else f"{self.project}-{SERVICE}"
            code = f" (exit code {found.exit_code})" if found else ""
            words = last_words(engine.logs(self.project, 20) or "")
            raise StackError(
                f"the database container {name} stopped{code}: {words}", "see `inv stack.logs`"
            )
        return found

    def down(self) -> str:
        self.preflight()
        self.check(self.compose("down"), "docker compose down")
        return f"stopped (project {self.project}; its volume is kept)"

    def describe_destroy(self) -> str:
        return f"the compose stack {self.project}: its containers and its volume (every database)"

    def destroy(self) -> str:
        engine = self.preflight()
        self.check(self.compose("down", "--volumes", "--remove-orphans"), "docker compose down")
        left = engine.leftovers(self.project)
        if left:
            raise StackError(
                f"docker compose down left {', '.join(left)}",
                "remove them (`docker rm -f`, `docker volume rm`, `docker network rm`), then retry",
            )
        return f"removed project {self.project}: no container or volume is left"

    def status(self) -> StackStatus:
        engine = self.preflight()
        found = engine.container(self.project)
        volumes = [v for v in engine.leftovers(self.project) if v.startswith("volume ")]
        status = StackStatus(
            self.name, bool(found and found.state == "running"), self.settings.masked_url
        )
        status.details.update(
            project=self.project,
            compose_file=str(self.settings.compose_file),
            image=found.image if found else self.settings.image,
            container=found.name if found else None,
            container_state=found.state if found else "absent",
            health=found.health if found else None,
            volume=volumes[0].removeprefix("volume ") if volumes else "absent",
            engine=engine.version(),
        )
        return status

    def logs(self, lines: int) -> str:
        text = self.preflight().logs(self.project, lines)
        if text is None:
            raise StackError(
                f"the compose stack {self.project} has no database container", "run `inv stack.up`"
            )
        return text.rstrip("\n")


def port_taken(port: int) -> StackError:
    return StackError(
        f"port {port} on 127.0.0.1 is already in use by another program",
        "set DB_PORT to a free port, or stop what listens there",
    )


def last_line(result: Result) -> str:
    lines = [ln.strip() for ln in (result.stderr or result.stdout or "").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"


def last_words(log: str) -> str:
    """The server's last FATAL/PANIC/ERROR line, else the log's last line."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    for line in reversed(lines):
        for level in ("PANIC:", "FATAL:", "ERROR:"):
            if level in line:
                return line[line.index(level) :][:300]
    return lines[-1][:300] if lines else "it logged nothing"
