"""The docker tier: the compose backend's lifecycle against a real Docker engine.

Each test gets a scratch project (the repository's tasks.py, docker-compose.yml, Alembic
wiring) whose stack runs the stand-in image on a free port with a hostile password,
driven through the real `inv` command. The tier runs when an engine answers
(`.ci/docker-engine` makes one) and is skipped with the reason otherwise; with
DBTASKS_REQUIRE_DOCKER=1 a missing engine fails it instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dbtasks.stack.compose import project_name
from dbtasks.stack.engine import PROJECT_LABEL
from tests.projects import ScratchProject, make_project
from tests.support import REPO, make_settings, sql

if TYPE_CHECKING:
    from docker import DockerClient

STANDIN = "dbtasks-standin/supabase-postgres:15"
ENGINE_SCRIPT = REPO / ".ci" / "docker-engine"


def missing_engine() -> str | None:
    """Why the tier cannot run here, or None."""
    try:
        import docker

        docker.from_env  # noqa: B018  # absent when only a docker/ directory was imported
    except (ImportError, AttributeError):
        return "the Docker SDK for Python is not installed (pip install docker)"
    try:
        client = docker.from_env()
        client.images.get(STANDIN)
    except docker.errors.ImageNotFound:
        return f"the image {STANDIN} is missing: run .ci/docker-engine"
    except docker.errors.DockerException as exc:
        return f"no Docker engine answers ({str(exc)[:120]}): run .ci/docker-engine"
    if shutil.which("docker") is None:
        return "the docker CLI is not on PATH: run .ci/docker-engine"
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode:
        return "the Docker Compose plugin is missing: run .ci/docker-engine"
    return None


@pytest.fixture(scope="session")
def docker_client() -> Iterator[DockerClient]:
    reason = missing_engine()
    if reason and os.environ.get("DBTASKS_REQUIRE_DOCKER") == "1":
        pytest.fail(f"DBTASKS_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)
    import docker

    client = docker.from_env()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _engine(docker_client: DockerClient) -> None:
    """Every test of the tier needs the engine: skipped, or failed, without one."""


def by_project(project: str) -> dict[str, Any]:
    return {"label": f"{PROJECT_LABEL}={project}"}


def leftovers(client: DockerClient, project: str) -> list[str]:
    """Every container, volume and network labelled with the compose project."""
    label = by_project(project)
    return [
        *(f"container {c.name}" for c in client.containers.list(all=True, filters=label)),
        *(f"volume {v.name}" for v in client.volumes.list(filters=label)),
        *(f"network {n.name}" for n in client.networks.list(filters=label)),
    ]


def remove_project(client: DockerClient, project: str) -> None:
    """Whatever a failed test left of `project`, removed through the engine's API."""
    label = by_project(project)
    for container in client.containers.list(all=True, filters=label):
        container.remove(force=True)
    for volume in client.volumes.list(filters=label):
        volume.remove(force=True)
    for network in client.networks.list(filters=label):
        network.remove()


class ComposeProject:
    """A scratch project on the compose backend, and what the engine holds of it."""

    def __init__(self, scratch: ScratchProject, client: DockerClient) -> None:
        self.scratch = scratch
        self.client = client
        self.name = project_name(scratch.root)
        self.password = scratch.env["DB_PASS"]

    def inv(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        result = self.scratch.inv(*args, **env)
        # No command ever shows the password, whatever it says.
        assert self.password not in result.stdout + result.stderr
        return result

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        return sql(self.scratch.settings().endpoint, statement)

    def leftovers(self) -> list[str]:
        return leftovers(self.client, self.name)

    def volume(self) -> dict[str, Any]:
        (found,) = self.client.volumes.list(filters=by_project(self.name))
        return dict(found.attrs)


def compose_project(root: Path, client: DockerClient, mindmirror: bool) -> ComposeProject:
    """MindMirror's models, migrations and seeds (or small models) on the compose backend."""
    scratch = make_project(root, make_settings(root), with_mindmirror=mindmirror)
    shutil.copy(REPO / "docker-compose.yml", root / "docker-compose.yml")
    scratch.env.pop("DB_DATA_DIR")  # the compose backend keeps its data in a volume
    scratch.env.update(
        DB_BACKEND="compose", DB_IMAGE=STANDIN, DB_NAME="mindmirror", DB_HEALTH_TIMEOUT="60"
    )
    return ComposeProject(scratch, client)


@pytest.fixture
def mindmirror(tmp_path: Path, docker_client: DockerClient) -> Iterator[ComposeProject]:
    project = compose_project(tmp_path, docker_client, mindmirror=True)
    try:
        yield project
    finally:
        cleanup(project)


@pytest.fixture
def small(tmp_path: Path, docker_client: DockerClient) -> Iterator[ComposeProject]:
    project = compose_project(tmp_path, docker_client, mindmirror=False)
    try:
        yield project
    finally:
        cleanup(project)


def cleanup(project: ComposeProject) -> None:
    """The product's own destroy first; then, by label, whatever it could not remove."""
    project.scratch.inv("stack.down", "--destroy", "--yes")
    remove_project(project.client, project.name)
