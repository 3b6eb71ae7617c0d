"""`inv db.plan`: what each pending revision will lock, rewrite, block and lose.

It reads the target with catalog queries only and traces on a scratch clone (see
`dbtasks.plan`); with `--fix` it then writes the mechanical safe forms as one new revision
(`dbtasks.plan.fix`). The `db` namespace is composed in `dbtasks.tasks.db`, which also
gives `db.upgrade --plan`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.context import Context

from dbtasks.tasks._boundary import command, task
from dbtasks.tasks._options import JSON_HELP, TARGET_HELP

if TYPE_CHECKING:
    from dbtasks.plan.model import Plan, Risk
    from dbtasks.plan.run import Options
    from dbtasks.workflow import Work

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
    "fix": "also write the safe form of each risky statement that has a mechanical one "
    "(a concurrent index, a NOT VALID constraint then validated, a column under a "
    "lock_timeout) as one new revision after the head, and print the lines of the pending "
    "revisions it replaces, to remove by hand (no revision file is edited)",
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
    fix: bool = False,
) -> None:
    """Trace pending revisions on a scratch clone: locks, rewrites, sizes, risks, safe ways."""
    from dbtasks.errors import CheckFailed, ConfigError
    from dbtasks.plan.run import Options
    from dbtasks.workflow import read

    with command(json_mode=json) as run:
        threshold = risk_named(fail_on)
        if downgrade and revision.strip() in ("heads", "head", ""):
            raise ConfigError("--downgrade needs the revision to go down to: -r REV")
        if fix:
            fix_refusal(revision, downgrade, markdown)
        options = Options(
            target=revision.strip() or "heads",
            downgrade=downgrade,
            live=live,
            allow_remote=allow_remote,
            check_downgrades=not no_downgrade_check,
            copy_schema=copy_schema,
        )
        found = read(lambda work: _shown(work, options, markdown, fix), run.settings, run.console)
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


def fix_refusal(revision: str, downgrade: bool, markdown: bool) -> None:
    """--fix writes one revision after the head for a plan of every pending revision."""
    from dbtasks.errors import ConfigError

    if downgrade:
        raise ConfigError(
            "--fix writes the safe forms of an upgrade, not of a rollback",
            "plan the rollback without --fix",
        )
    if markdown:
        raise ConfigError(
            "--fix prints which lines to remove, which a pull request comment cannot carry",
            "run --fix and --markdown separately",
        )
    if revision.strip() not in ("heads", "head", ""):
        raise ConfigError(
            f"--fix plans every pending revision, not those up to -r {revision}",
            "drop -r to use --fix: it writes after the head",
        )


def _shown(work: Work, options: Options, markdown: bool, fix: bool) -> Plan:
    """The plan, printed; with `fix`, then the new revision written and its lines printed."""
    from dbtasks.plan.fix_revision import fix as write_fix
    from dbtasks.plan.run import plan as make_plan
    from dbtasks.tasks import _render

    if fix:
        _one_head(work.ws.graph.heads)
    found = make_plan(work, options)
    if not fix or not work.console.json_mode:
        _render.plan(work.console, found, markdown)
    if fix:
        _render.fixed(work.console, found, write_fix(work, found))
    return found


def _one_head(heads: tuple[str, ...]) -> None:
    from dbtasks.errors import ConfigError

    if len(heads) > 1:
        raise ConfigError(
            f"--fix writes one revision after the head, and there are {len(heads)}: "
            f"{', '.join(heads)}",
            "join them first: `inv db.merge`",
        )
