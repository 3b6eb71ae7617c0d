"""The compose backend: Supabase's Postgres image under `docker compose`.

Every command goes through Invoke's `Context.run` as one quoted string, so tests assert
the exact commands with `MockContext`. Secrets travel in the environment, never on a
command line; the compose file maps them (`DB_PASS` -> `POSTGRES_PASSWORD`).
"""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

from dbtasks.errors import ConfigError, StackError
from dbtasks.stack import Capabilities, ResetMode, StackStatus, UpResult, cluster

if TYPE_CHECKING:
    from invoke.context import Context
    from invoke.runners import Result

    from dbtasks.console import Console
    from dbtasks.settings import Settings

SERVICE = "db"
NATIVE_HINT = "or set DB_BACKEND=native to use the embedded Postgres"


class ComposeStack:
    name = "compose"
    capabilities = Capabilities(owns_server=True, reset=ResetMode.RECREATE, snapshots=False)

    def __init__(self, settings: Settings, ctx: Context | None = None) -> None:
        from invoke.context import Context

        self.settings = settings
        self.ctx = ctx or Context()

    # -- the one seam ----------------------------------------------------------------------

    def compose(self, *args: str) -> list[str]:
        return ["docker", "compose", "-f", str(self.settings.compose_file), *args]

    def run(self, args: list[str]) -> Result:
        ep = self.settings.endpoint
        env = {"DB_PORT": str(ep.port), "DB_PASS": ep.password, "DB_NAME": ep.database}
        return self.ctx.run(shlex.join(args), hide=True, warn=True, env=env, in_stream=False)

    def check(self, args: list[str], what: str) -> Result:
        result = self.run(args)
        if not result.ok:
            lines = [ln for ln in (result.stderr or result.stdout or "").splitlines() if ln.strip()]
            raise StackError(
                f"{what} failed: {lines[-1].strip() if lines else 'no output'}",
                "see `inv stack.logs`",
            )
        return result

    def preflight(self) -> None:
        """Docker, its compose plugin and a running engine, each with its own next step."""
        if not self.run(["docker", "--version"]).ok:
            raise StackError(
                "docker is not installed or not on PATH", f"install Docker, {NATIVE_HINT}"
            )
        if not self.run(["docker", "compose", "version"]).ok:
            raise StackError(
                "the Docker Compose plugin is missing",
                f"install the docker-compose-plugin package, {NATIVE_HINT}",
            )
        if not self.run(["docker", "info", "--format", "{{.ServerVersion}}"]).ok:
            raise StackError("the Docker engine is not running", f"start Docker, {NATIVE_HINT}")
        if not self.settings.compose_file.is_file():
            raise ConfigError(
                f"DB_COMPOSE_FILE={str(self.settings.compose_file)!r} does not exist",
                "point it at the stack's docker-compose.yml",
            )

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, console: Console) -> UpResult:
        self.preflight()
        if self._state().get("State") == "running":
            report = cluster.ensure_database(self.settings.endpoint, self.settings.health_timeout)
            return UpResult(False, f"already running (PostgreSQL {report.server_version})")
        with console.spinner("starting the Supabase Postgres container"):
            self.check(self.compose("up", "--detach", "--wait", SERVICE), "docker compose up")
            report = cluster.ensure_database(self.settings.endpoint, self.settings.health_timeout)
        return UpResult(
            True,
            f"started on port {self.settings.endpoint.port} (PostgreSQL {report.server_version})",
        )

    def down(self) -> str:
        self.preflight()
        self.check(self.compose("down"), "docker compose down")
        return "stopped"

    def describe_destroy(self) -> str:
        return "the compose stack's containers and its volume (every database in it)"

    def destroy(self) -> str:
        self.preflight()
        self.check(self.compose("down", "--volumes", "--remove-orphans"), "docker compose down")
        return "removed its containers and volume"

    def status(self) -> StackStatus:
        self.preflight()
        state = self._state()
        status = StackStatus(self.name, state.get("State") == "running", self.settings.masked_url)
        status.details.update(
            compose_file=str(self.settings.compose_file),
            container=state.get("Name"),
            state=state.get("State", "absent"),
            health=state.get("Health") or None,
            image=state.get("Image"),
        )
        return status

    def logs(self, lines: int) -> str:
        self.preflight()
        args = self.compose("logs", "--no-color", "--tail", str(lines), SERVICE)
        return str(self.check(args, "docker compose logs").stdout)

    def _state(self) -> dict[str, Any]:
        """The db service's entry of `docker compose ps` (absent: {})."""
        out = self.check(self.compose("ps", "--all", "--format", "json"), "docker compose ps")
        for entry in parse_ps(str(out.stdout)):
            if entry.get("Service") == SERVICE:
                return entry
        return {}


def parse_ps(text: str) -> list[dict[str, Any]]:
    """`docker compose ps --format json`: a JSON array (older) or one object per line."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]
