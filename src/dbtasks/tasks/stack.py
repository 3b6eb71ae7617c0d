"""`inv stack.*`: start, stop, inspect the database stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.context import Context

from dbtasks.errors import ConfigError
from dbtasks.tasks._boundary import command, task
from dbtasks.tasks._options import JSON_HELP

if TYPE_CHECKING:
    from dbtasks.settings import Settings

NAMESPACE = "stack"


@task(help={"timeout": "seconds to wait for a healthy database (default: DB_HEALTH_TIMEOUT)"})
def up(c: Context, timeout: str | None = None) -> None:
    """Start the local Postgres stack and wait until it answers a query."""
    from dbtasks.stack import get_stack

    with command(health_timeout=timeout) as run:
        stack = get_stack(run.settings)
        result = stack.up(run.console)
        run.console.ok(f"{stack.name} stack {result.message}: {run.settings.masked_url}")


@task(
    help={
        "destroy": "also delete the stack's data (asks first; see --yes)",
        "yes": "do not ask before destroying (needed when stdin is not a terminal)",
    }
)
def down(c: Context, destroy: bool = False, yes: bool = False) -> None:
    """Stop the local Postgres stack (and with --destroy, delete its data)."""
    from dbtasks.stack import get_stack

    with command() as run:
        stack = get_stack(run.settings)
        if not destroy:
            run.console.ok(f"{stack.name} stack: {stack.down()}")
            return
        from dbtasks.guard import authorize

        action = f"destroy {stack.describe_destroy()}"
        granted = authorize(run.settings, run.console, action, yes=yes, whole_server=True)
        run.console.ok(f"{stack.name} stack: {stack.destroy(granted)}")


@task(
    help={
        "json": JSON_HELP,
        "show_password": "also show the password, and a psql command line that uses it",
    }
)
def status(c: Context, json: bool = False, show_password: bool = False) -> None:
    """Show whether the stack runs, where, and with which Postgres binaries."""
    from dbtasks.stack import get_stack

    with command(json_mode=json) as run:
        report = get_stack(run.settings).status()
        if show_password:
            run.console.secrets = []  # asked for: the one output that shows it
            report.details.update(_credentials(run.settings))
        if json:
            run.console.json(report.as_dict())
            return
        state = "running" if report.running else "not running"
        run.console.fields(
            [
                ("backend", report.backend),
                ("state", state),
                ("url", report.url),
                *((k.replace("_", " "), v) for k, v in report.details.items() if v is not None),
            ]
        )


@task(help={"lines": "how many of the last log lines to show (default: 50)"})
def logs(c: Context, lines: str = "50") -> None:
    """Show the last lines of the database server's log."""
    from dbtasks.stack import get_stack

    with command() as run:
        count = int(lines) if lines.strip().isdigit() and len(lines.strip()) < 8 else 0
        if not 1 <= count <= 1_000_000:
            raise ConfigError(f"--lines={lines!r} must be a whole number from 1 to 1000000")
        run.console.line(get_stack(run.settings).logs(count))


def _credentials(settings: Settings) -> dict[str, str]:
    import shlex

    ep = settings.endpoint
    conninfo = ep.conninfo()
    return {
        "password": ep.password,
        "psql": f"PGPASSWORD={shlex.quote(ep.password)} psql {shlex.quote(conninfo)}",
    }


namespace = Collection("stack", up, down, status, logs)
