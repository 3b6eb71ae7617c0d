"""`inv db.plan`: what each pending revision will lock, rewrite, block and lose.

It reads the target with catalog queries only and traces on a scratch clone (see
`dbtasks.plan`); the `db` namespace is composed in `dbtasks.tasks.db`, which also gives
`db.upgrade --plan`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.context import Context

from dbtasks.tasks._boundary import command, task
from dbtasks.tasks._options import JSON_HELP, TARGET_HELP

if TYPE_CHECKING:
    from dbtasks.plan.model import Risk

NAMESPACE = "db"
FAIL_ON = ("high", "medium", "low")
HELP = {
    "revision": f"plan the upgrade to this revision (default: heads); {TARGET_HELP}",
    "json": JSON_HELP,
    "fail_on": "exit 3 when the plan's risk is this or worse: high, medium or low (for CI)",
    "downgrade": "plan a rollback down to -r REV instead: locks, sizes, what each downgrade loses",
    "live": "also read the target's open transactions and lock waiters a lock would queue behind",
    "markdown": "print a GitHub-flavoured Markdown report (a pull request comment) instead",
    "allow_remote": "build the scratch clone on the target's server even when it is not on "
    "this machine (never production or hosted Supabase); otherwise a local throwaway "
    "cluster is used",
    "no_downgrade_check": "do not run each pending revision's downgrade on the clone",
    "copy_schema": "build the clone from the target's own schema (pg_dump --schema-only: "
    "brief ACCESS SHARE locks, given up after 1 s) instead of replaying its history",
}


@task(help=HELP)
def plan(
    c: Context,
    revision: str = "heads",
    json: bool = False,
    fail_on: str = "",
    downgrade: bool = False,
    live: bool = False,
    markdown: bool = False,
    allow_remote: bool = False,
    no_downgrade_check: bool = False,
    copy_schema: bool = False,
) -> None:
    """Trace pending revisions on a scratch clone: locks, rewrites, sizes, risks, safe ways."""
    from dbtasks.errors import CheckFailed, ConfigError
    from dbtasks.plan.run import Options
    from dbtasks.plan.run import plan as make_plan
    from dbtasks.tasks import _render
    from dbtasks.workflow import read

    with command(json_mode=json) as run:
        threshold = risk_named(fail_on)
        if downgrade and revision.strip() in ("heads", "head", ""):
            raise ConfigError("--downgrade needs the revision to go down to: -r REV")
        options = Options(
            target=revision.strip() or "heads",
            downgrade=downgrade,
            live=live,
            allow_remote=allow_remote,
            check_downgrades=not no_downgrade_check,
            copy_schema=copy_schema,
        )
        found = read(lambda work: make_plan(work, options), run.settings, run.console)
        _render.plan(run.console, found, markdown)
        if threshold is not None and found.risk >= threshold:
            raise CheckFailed(
                f"the plan's risk is {found.risk.label} (--fail-on {fail_on})",
                "see each hint's safer way",
            )


def risk_named(name: str) -> Risk | None:
    from dbtasks.errors import ConfigError
    from dbtasks.plan.model import Risk

    if not name:
        return None
    if name.strip().lower() not in FAIL_ON:
        raise ConfigError(f"--fail-on {name!r}: choose high, medium or low")
    return Risk[name.strip().upper()]
