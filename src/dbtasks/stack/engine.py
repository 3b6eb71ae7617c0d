"""The Docker engine's API, through the Docker SDK for Python: is an engine reachable and
why not, the compose project's container, its logs, what of the project is left.

An optional extra (`dbtasks[compose]`), imported lazily by the compose backend only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.errors import StackError

if TYPE_CHECKING:
    # A block of its own: with tests/docker/ in a ruff src root, isort would class the
    # SDK as first-party and move it among our own imports.
    from docker import DockerClient

SERVICE = "db"
NATIVE_HINT = "or set DB_BACKEND=native to use the embedded Postgres"
PROJECT_LABEL = "com.docker.compose.project"
DEFAULT_HOST = "unix:///var/run/docker.sock"


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
