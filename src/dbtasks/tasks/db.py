"""`inv db.*` that change the database. Each task resolves its flags and runs one flow;
the read-only ones live in `dbtasks.tasks.db_read`, and the namespace joins both."""

from __future__ import annotations

from invoke.collection import Collection
from invoke.context import Context

from dbtasks.tasks import db_erd, db_plan, db_read, db_squash
from dbtasks.tasks._boundary import Run, command, task
from dbtasks.tasks._options import (
    FLEET_HELP,
    REMOTE_HELP,
    TARGET_HELP,
    TARGETS_HELP,
    YES_HELP,
)
from dbtasks.templates import TEMPLATES_HELP

NAMESPACE = "db"


@task()
def prepare(c: Context) -> None:
    """Get a database ready, however far along it is: stack, migrations, seeds. Idempotent."""
    from dbtasks.flows.prepare import Prepare
    from dbtasks.workflow import execute

    with command() as run:
        final = execute(Prepare(), run.settings, run.console)
        if final is not None:
            run.console.ok(f"ready: {final.summary()}")


@task(help={"template": f"the first migration's template: {TEMPLATES_HELP}"})
def init(c: Context, template: str = "") -> None:
    """Bring the stack up, create the schema and migrate a new database to head."""
    from dbtasks.flows.author import Init
    from dbtasks.templates import resolve
    from dbtasks.workflow import execute

    with command() as run:
        chosen = resolve(template, run.settings.project_root) if template else None
        final = execute(Init(chosen), run.settings, run.console)
        run.console.ok(f"initialized: {final.summary()}")


@task(
    help={
        "message": "what the change does; becomes the file name (required)",
        "empty": "write an empty revision to fill in by hand instead of autogenerating",
        "template": f"write a revision to fill in from a pattern: {TEMPLATES_HELP}",
    }
)
def revision(c: Context, message: str = "", empty: bool = False, template: str = "") -> None:
    """Autogenerate a migration from the models (or an empty one with --empty)."""
    from dbtasks.flows.author import Autogenerate, empty_revision, validate_message
    from dbtasks.templates import resolve
    from dbtasks.workflow import execute

    with command() as run:
        text = validate_message(message)
        chosen = resolve(template, run.settings.project_root) if template else None
        if empty or chosen is not None:
            new = empty_revision(run.settings, text, chosen)
        else:
            new = execute(Autogenerate(text), run.settings, run.console)
        for warning in new.warnings:
            run.console.warn(warning)
        if new.path is None:
            run.console.ok("no changes between the models and the database: no file written")
            return
        run.console.ok(f"wrote {new.path}")
        for operation in new.operations:
            run.console.line(f"  {operation}")


@task(
    help={
        "revision": f"where to go (default: heads). {TARGET_HELP}",
        "sql": "print the SQL of the pending revisions instead of applying them",
        "plan": "show what db.plan finds first (locks, rewrites, risks), then ask",
        "yes": "apply without asking (--plan); change production targets (a fleet)",
        **FLEET_HELP,
        "per_host": "with a fleet: at most this many upgrades at once on one server",
        "canary": "with a fleet: upgrade the first K members first; stop if any fails",
        "max_failures": "with a fleet: stop starting members after more than N (or P%) fail "
        "(default: 0, the first failure stops the run)",
        "resume": "continue the last fleet run: members it committed are not run again",
        "create_missing": "with a fleet: create the tenant databases or schemas that do not "
        "exist yet, at head, from a template (no history replayed)",
    },
)
def upgrade(
    c: Context,
    revision: str = "heads",
    sql: bool = False,
    plan: bool = False,
    yes: bool = False,
    all_: bool = False,
    target: str = "",
    group: str = "",
    shard: str = "",
    parallel: str = "4",
    per_host: str = "0",
    canary: str = "0",
    max_failures: str = "0",
    resume: bool = False,
    create_missing: bool = False,
) -> None:
    """Apply pending migrations under a lock, with progress (to a fleet, in parallel)."""
    from dbtasks.flows.migrate import Upgrade
    from dbtasks.tasks import _fleet
    from dbtasks.workflow import execute, read

    with command() as run:
        fleet = _fleet.selection(all_, target, group, shard)
        if fleet is not None or resume:
            limits = _fleet.limits(parallel, per_host, canary, max_failures)
            _fleet.upgrade(run, fleet, revision, limits, (yes, resume, create_missing))
            return
        if sql:
            from dbtasks.reads.sql import offline_sql

            read(lambda work: offline_sql(work, revision), run.settings, run.console)
            return
        if plan:
            _planned_consent(run, revision, yes)
        run.console.ok(execute(Upgrade(revision), run.settings, run.console).summary())


def _planned_consent(run: Run, revision: str, yes: bool) -> None:
    """`db.upgrade --plan`: the plan of what it is about to apply, then consent."""
    from dbtasks import guard
    from dbtasks.plan.run import Options
    from dbtasks.plan.run import plan as make_plan
    from dbtasks.tasks import _render
    from dbtasks.workflow import read

    found = read(lambda work: make_plan(work, Options(target=revision)), run.settings, run.console)
    if not found.revisions:
        return  # the upgrade says there is nothing to apply
    _render.plan(run.console, found)
    count, where = len(found.revisions), run.settings.masked_url
    guard.confirm(
        run.console, f"apply {count} revision(s) to {where} (risk {found.risk.label})", yes
    )


@task(
    help={
        "revision": f"where to go down to: {TARGET_HELP}",
        "yes": YES_HELP,
        "sql": "print the SQL of the downgrade instead of running it",
        "allow_remote": REMOTE_HELP,
        "target": TARGETS_HELP,
    }
)
def downgrade(
    c: Context,
    revision: str,
    yes: bool = False,
    sql: bool = False,
    allow_remote: bool = False,
    target: str = "",
) -> None:
    """Roll back migrations, after showing what will be undone."""
    from dbtasks.flows.migrate import Downgrade
    from dbtasks.reads.sql import offline_sql
    from dbtasks.tasks import _fleet
    from dbtasks.workflow import execute, read

    with command() as run:
        if sql:
            read(lambda work: offline_sql(work, revision, False), run.settings, run.console)
            return
        for settings in _fleet.each(run, target):
            final = execute(
                Downgrade(revision), settings, run.console, yes=yes, allow_remote=allow_remote
            )
            if final is not None:
                run.console.ok(final.summary())


@task(
    help={
        "revision": f"what the version table should say: {TARGET_HELP}",
        "yes": YES_HELP,
        "purge": "empty the version table first (it may name revisions no file defines)",
        "allow_remote": REMOTE_HELP,
    }
)
def stamp(
    c: Context, revision: str, yes: bool = False, purge: bool = False, allow_remote: bool = False
) -> None:
    """Set the version table to a revision without running any migration."""
    from dbtasks.flows.migrate import Stamp
    from dbtasks.workflow import execute

    with command() as run:
        flow = Stamp(revision, purge)
        final = execute(flow, run.settings, run.console, yes=yes, allow_remote=allow_remote)
        if final is not None:
            run.console.ok(f"stamped: {final.summary()}")


@task(help={"message": "the merge revision's message (default: merge heads)"})
def merge(c: Context, message: str = "merge heads") -> None:
    """Write a revision that joins every head, after two branches each added one."""
    from dbtasks.flows.author import merge as write_merge
    from dbtasks.flows.author import validate_message

    with command() as run:
        new = write_merge(run.settings, validate_message(message))
        if new is None:
            run.console.ok("there is only one head: nothing to merge, no file written")
            return
        run.console.ok(f"wrote {new.path}, joining {', '.join(new.joins)}")


@task(
    help={
        "yes": YES_HELP,
        "no_seed": "leave the rebuilt database empty",
        "allow_remote": REMOTE_HELP,
        "no_snapshot": "ignore the snapshot, rebuild from the migrations (and save a new one)",
        "target": TARGETS_HELP,
    }
)
def reset(
    c: Context,
    yes: bool = False,
    no_seed: bool = False,
    allow_remote: bool = False,
    no_snapshot: bool = False,
    target: str = "",
) -> None:
    """Throw the local database away and rebuild it at head, seeded."""
    from dbtasks.flows.reset import ResetOptions
    from dbtasks.flows.reset import reset as run_reset
    from dbtasks.tasks import _fleet

    with command() as run:
        options = ResetOptions(
            yes=yes, seed=not no_seed, allow_remote=allow_remote, use_snapshot=not no_snapshot
        )
        for settings in _fleet.each(run, target):
            run.console.ok(run_reset(settings, run.console, options))


@task(help={"allow_remote": REMOTE_HELP})
def seed(c: Context, allow_remote: bool = False) -> None:
    """Load the seed files into the database, in one transaction."""
    from dbtasks.flows.seed import Seed
    from dbtasks.workflow import execute

    with command() as run:
        ran = execute(Seed(), run.settings, run.console, allow_remote=allow_remote)
        run.console.ok(f"seeded from {', '.join(ran)}" if ran else "no seed files configured")


namespace = Collection(
    "db",
    prepare,
    init,
    revision,
    upgrade,
    downgrade,
    stamp,
    merge,
    reset,
    seed,
    db_read.status,
    db_read.history,
    db_read.heads,
    db_read.show,
    db_read.health,
    db_read.adopt,
    db_read.validate,
    db_plan.plan,
    db_squash.squash,
    db_erd.erd,
)
