"""`inv db.squash`: one baseline revision in place of a long history, proven equal
(docs/squash.md). The `db` namespace is composed in `dbtasks.tasks.db`."""

from __future__ import annotations

from invoke.context import Context

from dbtasks.tasks._boundary import Run, command, task
from dbtasks.tasks._options import TARGET_HELP, YES_HELP

NAMESPACE = "db"


@task(
    iterable=["past"],
    help={
        "upto": f"squash every revision up to this one into a baseline: {TARGET_HELP}",
        "message": "the baseline's message (default: squash up to REV)",
        "catch_up": "bring the database from a replaced revision to the squash point, with "
        "the replaced files (then `inv db.upgrade` goes on)",
        "prune": "delete the replaced files; needs --past for every database you keep, or --all",
        "past": "with --prune: a database on this server that must be past the squash point "
        "(repeatable)",
        "all_": "with --prune: every member of every configured target must be past it "
        "([tool.dbtasks.targets], production included: this only reads)",
        "yes": YES_HELP,
        "allow_remote": "let the proof build its scratch databases on a server not on this "
        "machine (never production or hosted Supabase)",
    },
)
def squash(
    c: Context,
    upto: str = "",
    message: str = "",
    catch_up: bool = False,
    prune: bool = False,
    past: list[str] | None = None,
    all_: bool = False,
    yes: bool = False,
    allow_remote: bool = False,
) -> None:
    """Squash the history up to a revision into one baseline, proven equal by fingerprint."""
    from dbtasks.errors import ConfigError

    with command() as run:
        chosen = [name for name, on in (("--upto", upto), ("--catch-up", catch_up),
                                         ("--prune", prune)) if on]  # fmt: skip
        if len(chosen) != 1:
            raise ConfigError(
                "say what to do: --upto REV, --catch-up or --prune"
                + (f" (not {' and '.join(chosen)} together)" if chosen else ""),
                "see `inv --help db.squash`",
            )
        if catch_up:
            _catch_up(run, allow_remote)
        elif prune:
            _prune(run, past or [], all_, yes)
        else:
            _squash(run, upto, message, allow_remote)


def _squash(run: Run, upto: str, message: str, allow_remote: bool) -> None:
    from dbtasks.squash.command import squash as write

    console, settings = run.console, run.settings
    done = write(settings, console, upto, message, allow_remote)
    console.ok(f"wrote {done.path}: a baseline replacing {done.replaced} revisions")
    console.line(f"  carried: {'; '.join(done.carried)}")
    console.line(f"  the replaced files are in {done.folder}/ until `inv db.squash --prune`")
    for note in done.notes:
        console.warn(note)
    console.line(
        f"  a database at {done.upto} needs nothing; one at an older revision: "
        "`inv db.squash --catch-up`, then `inv db.upgrade`"
    )


def _catch_up(run: Run, allow_remote: bool) -> None:
    from dbtasks.squash.frozen import CatchUp
    from dbtasks.workflow import execute

    console, settings = run.console, run.settings
    final = execute(CatchUp(), settings, console, allow_remote=allow_remote)
    console.ok(final.summary())
    if final.pending:
        console.line("  run `inv db.upgrade` to go on from the baseline")


def _prune(run: Run, past: list[str], fleet: bool, yes: bool) -> None:
    from dbtasks.squash.command import prune

    console, settings = run.console, run.settings
    count = prune(settings, console, past, yes, fleet)
    if count:
        console.ok(f"pruned {count} replaced revision files")
