"""A database dbtasks does not own (hosted Supabase, a CI service): no lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtasks.errors import HealthError, Refused
from dbtasks.health import probe, wait_healthy
from dbtasks.stack import Capabilities, ResetMode, StackStatus, UpResult

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.grants import Grant
    from dbtasks.settings import Settings


class ExternalStack:
    name = "external"
    capabilities = Capabilities(owns_server=False, reset=ResetMode.SCHEMA, snapshots=False)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def up(self, console: Console) -> UpResult:
        with console.spinner(f"waiting for {self.settings.masked_url}"):
            report = wait_healthy(self.settings.endpoint, self.settings.health_timeout)
        return UpResult(False, f"answers (PostgreSQL {report.server_version})")

    def down(self) -> str:
        return "nothing to stop: the external database is not managed by dbtasks"

    def describe_destroy(self) -> str:
        return f"the external database at {self.settings.masked_url}"

    def destroy(self, grant: Grant) -> str:
        raise Refused(
            "refusing to destroy an external database: dbtasks does not own it",
            "drop it with your provider's tools",
        )

    def status(self) -> StackStatus:
        status = StackStatus(self.name, False, self.settings.masked_url)
        try:
            report = probe(self.settings.endpoint)
        except HealthError as exc:
            status.details["problem"] = exc.reason
            return status
        status.running = True
        status.details["server_version"] = report.server_version
        return status

    def logs(self, lines: int) -> str:
        return "no logs: the external database is not managed by dbtasks"
