"""`inv db.*` that read: health, status, history, heads, show, adopt and validate.

Each runs one function of `dbtasks.reads` through `workflow.read`, which can change
nothing (`db.adopt --stamp` goes through `db.stamp`'s flow, which asks); the `db`
namespace is composed in `dbtasks.tasks.db`.
"""

from __future__ import annotations

from invoke.context import Context

from dbtasks.tasks._boundary import command, task
from dbtasks.tasks._options import FLEET_HELP, JSON_HELP, TARGET_HELP, TARGETS_HELP, YES_HELP

NAMESPACE = "db"
CHECKS = (
    "graph, database, checksums, transactions, lint, drift, roundtrip, squash (a history with "
    "a squashed baseline), plan (only when named)"
)


@task(
    help={
        "json": JSON_HELP,
        "wait": "keep trying until healthy or DB_HEALTH_TIMEOUT passes (default: one attempt)",
        "timeout": "seconds to wait with --wait (default: DB_HEALTH_TIMEOUT)",
    }
)
def health(c: Context, json: bool = False, wait: bool = False, timeout: str | None = None) -> None:
    """Check that the database answers a real query: version, latency, extensions, head."""
    from dbtasks.errors import CheckFailed, DbTasksError, HealthError
    from dbtasks.health import probe, wait_healthy
    from dbtasks.reads.readiness import readiness
    from dbtasks.tasks import _render
    from dbtasks.workflow import read

    with command(json_mode=json, health_timeout=timeout) as run:
        settings = run.settings
        base = {"backend": settings.backend, "url": settings.masked_url}
        try:
            if wait:
                report = wait_healthy(settings.endpoint, settings.health_timeout)
            else:
                report = probe(settings.endpoint)
        except DbTasksError as exc:  # unreachable, or a connection option libpq rejects
            if json:  # a machine reader gets its answer on stdout too
                reason = exc.reason if isinstance(exc, HealthError) else "bad setting"
                run.console.json(
                    {**base, "healthy": False, "reason": reason, "error": exc.render()}
                )
            raise
        ready = read(
            lambda work: readiness(work, report.server_version),
            settings,
            run.console,
            needs_database=False,  # just probed
        )
        _render.health(run.console, base, report, ready)
        if ready.problems:
            raise CheckFailed("; ".join(ready.problems))


@task(
    help={
        "json": JSON_HELP,
        "stamp": "record that the database matches this revision (asks, like db.stamp)",
        "yes": YES_HELP,
        "purge": "with --stamp: empty the version table first",
    }
)
def adopt(
    c: Context, json: bool = False, stamp: str = "", yes: bool = False, purge: bool = False
) -> None:
    """Check an existing Alembic project and database; say what they need."""
    from dbtasks.flows.migrate import Stamp
    from dbtasks.reads.adopt import adopt as report_on
    from dbtasks.tasks import _render
    from dbtasks.workflow import execute, read

    with command(json_mode=json) as run:
        if stamp:
            final = execute(Stamp(stamp, purge), run.settings, run.console, yes=yes)
            if final is not None:
                run.console.ok(f"stamped: {final.summary()}")
            return
        found = read(report_on, run.settings, run.console, needs_database=False)
        _render.adoption(run.console, found)


@task(help={"json": JSON_HELP})
def heads(c: Context, json: bool = False) -> None:
    """Show every head revision and whether it is applied."""
    from dbtasks.reads.history import heads as find_heads
    from dbtasks.tasks import _render
    from dbtasks.workflow import read

    with command(json_mode=json) as run:
        found = read(find_heads, run.settings, run.console, needs_database=False)
        _render.described(run.console, found, run.settings.project_root)


@task(
    help={
        "revision": f"the revision to show: {TARGET_HELP}",
        "json": JSON_HELP,
        "sql": "print the SQL its upgrade runs instead",
    }
)
def show(c: Context, revision: str, json: bool = False, sql: bool = False) -> None:
    """Show one revision: message, file, parents, children, labels, applied or not."""
    from dbtasks.reads.history import show as describe
    from dbtasks.reads.sql import revision_sql
    from dbtasks.tasks import _render
    from dbtasks.workflow import read

    with command(json_mode=json) as run:
        if sql:
            read(lambda w: revision_sql(w, revision), run.settings, run.console)
            return
        found = read(
            lambda w: describe(w, revision), run.settings, run.console, needs_database=False
        )
        if json:
            run.console.json(found.as_dict())
            return
        _render.described(run.console, [found], run.settings.project_root)


@task(
    help={
        "json": JSON_HELP,
        "check": "exit 3 when the database (or any member, with a fleet) is not at head",
        **FLEET_HELP,
    }
)
def status(
    c: Context,
    json: bool = False,
    check: bool = False,
    all_: bool = False,
    target: str = "",
    group: str = "",
    shard: str = "",
    parallel: str = "8",
) -> None:
    """Show the current revision, the heads and what is pending (of a fleet: a matrix)."""
    from dbtasks.errors import CheckFailed
    from dbtasks.reads.history import status as where
    from dbtasks.tasks import _fleet, _render
    from dbtasks.workflow import read

    with command(json_mode=json) as run:
        fleet = _fleet.selection(all_, target, group, shard)
        if fleet is not None:
            _fleet.status(run, fleet, _fleet.parallel_count(parallel), check)
            return
        report = read(where, run.settings, run.console)
        _render.status(run.console, report)
        if check and not report.at_head:
            raise CheckFailed(f"not at head: {report.summary()}", "run `inv db.upgrade`")


@task(
    help={
        "json": JSON_HELP,
        "rev_range": "only revisions in LOWER:UPPER, e.g. base:abc1",
        "timings": "show how long each revision dbtasks applied or undid took",
    }
)
def history(c: Context, json: bool = False, rev_range: str = "", timings: bool = False) -> None:
    """List revisions, marking which are applied, current and pending."""
    from dbtasks.reads import history as reads
    from dbtasks.tasks import _render
    from dbtasks.workflow import read

    with command(json_mode=json) as run:
        if timings:
            _render.timings(run.console, read(reads.timings, run.settings, run.console))
            return
        rows = read(
            lambda w: reads.history(w, rev_range or None),
            run.settings,
            run.console,
            needs_database=False,
        )
        _render.history(run.console, rows)


@task(
    iterable=["skip", "only"],
    help={
        "json": JSON_HELP,
        "skip": f"leave out this check (repeatable): {CHECKS}",
        "only": f"run only this check (repeatable): {CHECKS}",
        "allow_remote": "let the drift and roundtrip checks build their scratch database on "
        "a server not on this machine (never production or hosted Supabase)",
        "target": TARGETS_HELP,
    },
)
def validate(
    c: Context,
    json: bool = False,
    skip: list[str] | None = None,
    only: list[str] | None = None,
    allow_remote: bool = False,
    target: str = "",
) -> None:
    """Run every check CI needs: graph, database, checksums, lint, drift, round trip."""
    from dbtasks.tasks import _fleet, _render
    from dbtasks.validate.run import choose
    from dbtasks.validate.run import validate as run_checks

    with command(json_mode=json) as run:
        chosen = choose(only or [], skip or [])
        for settings in _fleet.each(run, target):
            report = run_checks(settings, run.console, chosen, allow_remote)
            _render.validation(run.console, report)
            error = report.error()
            if error is not None:
                raise error
