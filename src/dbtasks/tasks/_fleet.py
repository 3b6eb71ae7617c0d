"""The fleet side of `db.status` and `db.upgrade`: `--all`, `--target`, `--group`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dbtasks.tasks._boundary import Run

if TYPE_CHECKING:
    from dbtasks.fleet.commands import Selection
    from dbtasks.fleet.execute import Limits
    from dbtasks.settings import Settings


def selection(every: bool, target: str, group: str, shard: str) -> Selection | None:
    """The fleet a command was asked to run on, or None for the configured database."""
    if not (every or target or group or shard):
        return None  # the everyday case: no fleet modules to import
    from dbtasks.errors import ConfigError
    from dbtasks.fleet.commands import Selection, parse_names

    chosen = Selection(every, parse_names(target), group or None, shard)
    if shard and not chosen.given:
        raise ConfigError("--shard splits a fleet: add --all, --target or --group")
    return chosen if chosen.given else None


def parallel_count(text: int | str, flag: str = "--parallel") -> int:
    from dbtasks.errors import ConfigError

    value = str(text).strip()
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{flag} {text!r} must be a whole number of at least 1")
    return int(value)


def status(run: Run, chosen: Selection, parallel: int, check: bool) -> None:
    from dbtasks.errors import CheckFailed
    from dbtasks.fleet import commands, report

    rows = commands.status(run.settings, run.console, chosen, parallel)
    report.matrix(run.console, rows)
    behind = [r.member for r in rows if not r.at_head]
    if check and behind:
        raise CheckFailed(f"{len(behind)} member(s) not at head", "run `inv db.upgrade --all`")


def limits(parallel: str, per_host: str, canary: str, max_failures: str) -> Limits:
    from dbtasks.errors import ConfigError
    from dbtasks.fleet.execute import Limits, failure_budget

    failure_budget(max_failures, 100)  # its own error, before anything runs
    if not str(canary).strip().isdigit():
        raise ConfigError(f"--canary {canary!r} must be a whole number")
    hosts = 0 if str(per_host).strip() == "0" else parallel_count(per_host, "--per-host")
    return Limits(parallel_count(parallel), hosts, int(canary), max_failures)


def upgrade(
    run: Run,
    chosen: Selection | None,
    revision: str,
    limits: Limits,
    flags: tuple[bool, bool, bool],
) -> None:
    """`flags`: --yes, --resume, --create-missing."""
    from dbtasks.fleet import commands, report

    chosen = chosen or commands.Selection()
    done = commands.upgrade(
        run.settings,
        run.console,
        chosen,
        revision,
        limits,
        yes=flags[0],
        resume=flags[1],
        create_missing=flags[2],
    )
    report.run(run.console, done)
    error = done.error()
    if error is not None:
        raise error
    where = "head" if revision in ("head", "heads") else revision
    run.console.ok(f"{len(done.book.members)} member(s) at {where}")


def each(run: Run, target: str) -> Iterator[Settings]:
    """The settings a single-database command runs with, once per member of the named
    targets (`--target a,b`), one after the other; the project's own without."""
    from dbtasks.fleet import commands

    names = commands.parse_names(target)
    if not names:
        yield run.settings
        return
    found = commands.members(run.settings, commands.Selection(names=names), reading=False)
    run.console.secrets += [m.settings.endpoint.password for m in found]
    for member in found:
        run.console.line(f"== {member.name} ({member.settings.masked_url})", style="bold")
        yield member.settings
