"""`inv db.*`: the database itself: health now, migrations and resets on top."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from dbtasks.tasks._boundary import command

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.health import HealthReport
    from dbtasks.migrations.plan import Revision
    from dbtasks.migrations.status import MigrationStatus

JSON_HELP = "print machine-readable JSON instead of text"
REMOTE_HELP = "allow a database not on this machine (never production or hosted Supabase)"


@task(
    help={
        "json": JSON_HELP,
        "wait": "keep trying until healthy or DB_HEALTH_TIMEOUT passes (default: one attempt)",
        "timeout": "seconds to wait with --wait (default: DB_HEALTH_TIMEOUT)",
    }
)
def health(c: Context, json: bool = False, wait: bool = False, timeout: str | None = None) -> None:
    """Check that the database answers a real query; show version and latency."""
    from dbtasks.errors import HealthError
    from dbtasks.health import probe, wait_healthy

    with command(json_mode=json, health_timeout=timeout) as run:
        settings = run.settings
        base = {"backend": settings.backend, "url": settings.masked_url}
        try:
            if wait:
                report = wait_healthy(settings.endpoint, settings.health_timeout)
            else:
                report = probe(settings.endpoint)
        except HealthError as exc:
            if json:  # a machine reader gets its answer on stdout too
                run.console.json(
                    {**base, "healthy": False, "reason": exc.reason, "error": exc.render()}
                )
            raise
        _render_health(run.console, base, report)


def _render_health(console: Console, base: dict[str, str], report: HealthReport) -> None:
    if console.json_mode:
        console.json(
            {
                **base,
                "healthy": True,
                "server_version": report.server_version,
                "connect_ms": round(report.connect_ms, 2),
                "latency_ms": round(report.latency_ms, 2),
            }
        )
        return
    console.fields(
        [
            *base.items(),
            ("server", f"PostgreSQL {report.server_version}"),
            ("connect", f"{report.connect_ms:.1f} ms"),
            ("round trip", f"{report.latency_ms:.2f} ms"),
        ]
    )
    console.ok("healthy")


@task
def init(c: Context) -> None:
    """Bring the stack up, create the schema and migrate a new database to head."""
    from dbtasks.migrations import commands

    with command() as run:
        final = commands.init(run.settings, run.console)
        run.console.ok(f"initialized: {final.summary()}")


@task(
    help={
        "message": "what the change does; becomes the file name (required)",
        "empty": "write an empty revision to fill in by hand instead of autogenerating",
    }
)
def revision(c: Context, message: str = "", empty: bool = False) -> None:
    """Autogenerate a migration from the models (or an empty one with --empty)."""
    from dbtasks.migrations import commands

    with command() as run:
        new = commands.revision(run.settings, run.console, message, empty)
        if new.path is None:
            run.console.ok("no changes between the models and the database: no file written")
            return
        run.console.ok(f"wrote {new.path}")
        for operation in new.operations:
            run.console.line(f"  {operation}")


@task(
    help={
        "revision": "revision to upgrade to (default: head; Invoke positionals cannot be optional)",
        "sql": "print the SQL of the pending revisions instead of applying them",
    },
)
def upgrade(c: Context, revision: str | None = None, sql: bool = False) -> None:
    """Apply pending migrations under a lock, with progress."""
    from dbtasks.migrations import commands

    with command() as run:
        final = commands.upgrade(run.settings, run.console, revision or "heads", sql)
        if final is not None:
            run.console.ok(final.summary())


@task(
    help={
        "revision": "target: a revision id, a unique prefix, -1 (one back) or base",
        "yes": "do not ask before undoing (needed when stdin is not a terminal)",
        "sql": "print the SQL of the downgrade instead of running it",
        "allow_remote": REMOTE_HELP,
    }
)
def downgrade(
    c: Context, revision: str, yes: bool = False, sql: bool = False, allow_remote: bool = False
) -> None:
    """Roll back migrations, after showing what will be undone."""
    from dbtasks.migrations import commands

    with command() as run:
        final = commands.downgrade(run.settings, run.console, revision, yes, sql, allow_remote)
        if final is not None:
            run.console.ok(final.summary())


@task(help={"json": JSON_HELP, "check": "exit 3 when the database is not at head (for CI)"})
def status(c: Context, json: bool = False, check: bool = False) -> None:
    """Show the current revision, the heads and what is pending."""
    from dbtasks.errors import CheckFailed
    from dbtasks.migrations import commands

    with command(json_mode=json) as run:
        report = commands.current_status(run.settings, run.console)
        if json:
            run.console.json(report.as_dict())
        else:
            _render_status(run.console, report)
        if check and not report.at_head:
            raise CheckFailed(f"not at head: {report.summary()}", "run `inv db.upgrade`")


_SNAPSHOT = {
    "valid": "valid: `inv db.reset` clones it",
    "stale": "stale: migrations or seeds changed since; the next reset rebuilds it",
    "none": "none yet: the next `inv db.reset` builds one",
}


def _render_status(console: Console, report: MigrationStatus) -> None:
    console.fields(
        [
            ("backend", report.backend),
            ("url", report.url),
            ("schema", report.schema),
            ("current", ", ".join(report.current) or "(none)"),
            ("head", ", ".join(report.heads) or "(no migrations)"),
            *([("snapshot", _SNAPSHOT[report.snapshot])] if report.snapshot else []),
        ]
    )
    if report.pending:
        console.line(f"pending ({len(report.pending)}):")
        console.table(("revision", "message"), [(r.id, r.message) for r in report.pending])
    for warning in report.warnings:
        console.warn(warning)
    if report.at_head:
        console.ok(report.summary())
    else:
        console.line(report.summary())


@task(help={"json": JSON_HELP, "rev_range": "only revisions in LOWER:UPPER, e.g. base:abc1"})
def history(c: Context, json: bool = False, rev_range: str = "") -> None:
    """List revisions, marking which are applied, current and pending."""
    from dbtasks.migrations import commands

    with command(json_mode=json) as run:
        rows = commands.history(run.settings, run.console, rev_range or None)
        if json:
            run.console.json([row.as_dict() for row in rows])
            return
        run.console.table(
            ("revision", "message", "date", "state", "shape"),
            [
                (
                    row.revision.id,
                    row.revision.message,
                    row.revision.date,
                    row.state,
                    _shape(row.revision),
                )
                for row in rows
            ],
        )


def _shape(revision: Revision) -> str:
    marks = []
    if revision.merge:
        marks.append(f"merge of {', '.join(revision.down)}")
    if revision.branch_point:
        marks.append("branch point")
    return "; ".join(marks)


@task(
    help={
        "yes": "do not ask first (needed when stdin is not a terminal)",
        "no_seed": "leave the rebuilt database empty",
        "allow_remote": REMOTE_HELP,
        "no_snapshot": "ignore the snapshot, rebuild from the migrations (and save a new one)",
    }
)
def reset(
    c: Context,
    yes: bool = False,
    no_seed: bool = False,
    allow_remote: bool = False,
    no_snapshot: bool = False,
) -> None:
    """Throw the local database away and rebuild it at head, seeded."""
    from dbtasks.reset import ResetOptions
    from dbtasks.reset import reset as run_reset

    with command() as run:
        options = ResetOptions(
            yes=yes, seed=not no_seed, allow_remote=allow_remote, use_snapshot=not no_snapshot
        )
        run.console.ok(run_reset(run.settings, run.console, options))


@task(help={"allow_remote": REMOTE_HELP})
def seed(c: Context, allow_remote: bool = False) -> None:
    """Load the seed files into the database, in one transaction."""
    from dbtasks.seeds import seed_database

    with command() as run:
        ran = seed_database(run.settings, run.console, allow_remote)
        run.console.ok(f"seeded from {', '.join(ran)}" if ran else "no seed files configured")


namespace = Collection(
    "db", init, revision, upgrade, downgrade, status, history, reset, seed, health
)
