"""The compose backend: a Postgres image (Supabase's by default) under `docker compose`.

The lifecycle (up, down, destroy) is the `docker compose` CLI, run as argument lists
through `dbtasks.shell.run` behind one injectable runner, so tests see the exact commands
and the environment they get. What the engine's API answers better than CLI text (is an
engine reachable and why not, the container's state and logs, whether anything of the
project is left) comes from the Docker SDK for Python, an optional extra imported lazily,
by this backend only. Secrets travel in the environment, never on a command line: the
compose file maps them (`DB_PASS` -> `POSTGRES_PASSWORD`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks import guard, shell
from dbtasks.errors import ConfigError, HealthError, StackError
from dbtasks.guard import Intent
from dbtasks.health import (
    AUTH_FAILED,
    REFUSED,
    STARTING,
    TIMED_OUT,
    HealthReport,
    probe,
    wait_healthy,
)
from dbtasks.stack import Capabilities, ResetMode, StackStatus, UpResult, cluster
from dbtasks.stack.engine import (
    DEFAULT_HOST,
    NATIVE_HINT,
    SERVICE,
    Container,
    Engine,
)

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.grants import Grant
    from dbtasks.settings import Settings
    from dbtasks.target import Endpoint

_PORT_TAKEN = ("address already in use", "port is already allocated")

Runner = Callable[[list[str], Mapping[str, str]], shell.Completed]
"""Runs a docker command (an argument list) with the caller's environment plus the given
variables; a program that is not installed raises `shell.ProgramNotFound`."""


def run_docker(args: list[str], env: Mapping[str, str]) -> shell.Completed:
    """The runner the backend uses outside tests."""
    return shell.run(args, extra_env=env)


def project_name(root: Path) -> str:
    """`<directory>-<hash of its path>`: readable, and two checkouts never share a volume."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", root.name.lower()).strip("-_")[:40] or "dbtasks"
    return f"{slug}-{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]}"


class ComposeStack:
    name = "compose"
    capabilities = Capabilities(owns_server=True, reset=ResetMode.RECREATE, snapshots=False)

    def __init__(
        self,
        settings: Settings,
        runner: Runner = run_docker,
        connect: Callable[[str], Engine] = Engine.connect,
    ) -> None:
        self.settings = settings
        self._runner = runner
        self.project = project_name(settings.project_root)
        self._connect = connect

    # -- the one seam ----------------------------------------------------------------------

    def compose(self, *args: str) -> list[str]:
        file = str(self.settings.compose_file)
        return ["docker", "compose", "-p", self.project, "-f", file, *args]

    def run(self, args: list[str]) -> shell.Completed:
        """`args` with what the compose file reads, in the environment: secrets included,
        they never appear on a command line."""
        ep = self.settings.endpoint
        env = {
            "DB_IMAGE": self.settings.image,
            "DB_PORT": str(ep.port),
            "DB_PASS": ep.password,
            "DB_NAME": ep.database,
        }
        return self._runner(args, env)

    def check(self, args: list[str], what: str) -> shell.Completed:
        result = self.run(args)
        if result.returncode != 0:
            raise StackError(f"{what} failed: {last_line(result)}", "see `inv stack.logs`")
        return result

    def preflight(self) -> Engine:
        """The docker CLI, its compose plugin and an answering engine, each with a next step."""
        try:
            where = self.run(
                ["docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"]
            )
        except shell.ProgramNotFound:
            raise StackError(
                "docker is not installed or not on PATH", "install Docker, " + NATIVE_HINT
            ) from None
        if self.run(["docker", "compose", "version", "--short"]).returncode != 0:
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
        answer = where.stdout.strip() if where.returncode == 0 else ""
        host = answer or DEFAULT_HOST
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
        if result.returncode == 0:
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
            granted = guard.stack(self.settings, Intent.MIGRATE, "start the compose stack")
            return cluster.ensure_database(ep, timeout, granted)[0]
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

    def destroy(self, grant: Grant) -> str:
        ep = self.settings.endpoint
        grant.require_server(Intent.DESTROY, ep.host, ep.port)
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


def last_line(result: shell.Completed) -> str:
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
