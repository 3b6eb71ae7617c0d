"""Run the chosen checks in order, each timed, and collect one report.

A check that cannot run (no database, no models) says why; the others still run. The
history is loaded first: when it is broken, the graph check fails naming the file, and
the checks that need the history are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.errors import CheckFailed, ConfigError, DbTasksError, ExitCode, Refused
from dbtasks.validate import CheckResult, Finding, Level, fail, warn

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.console import Console
    from dbtasks.settings import Settings
    from dbtasks.workflow import Work

CHECKS = (
    "graph",
    "database",
    "checksums",
    "transactions",
    "lint",
    "drift",
    "roundtrip",
    "squash",
)
# Run only when named (`--only plan`): it traces every pending revision on a clone of the
# configured database, which a run that checks the history alone need not pay for.
ON_REQUEST = ("plan",)


@dataclass
class Report:
    results: list[CheckResult]

    @property
    def exit_code(self) -> ExitCode:
        if any(r.level is Level.FAIL for r in self.results):
            return ExitCode.CHECK_FAILED
        if any(r.error and not r.refused for r in self.results):
            return ExitCode.FAILED
        if any(r.refused for r in self.results):
            return ExitCode.REFUSED
        return ExitCode.OK

    def error(self) -> DbTasksError | None:
        """The run's one-line outcome as the error to exit with; None when it passed.
        Every check that failed, could not run or was refused is named."""
        code = self.exit_code
        if code == ExitCode.OK:
            return None
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (
                ("failed", [r.name for r in self.results if r.state == "fail"]),
                ("could not run", [r.name for r in self.results if r.state == "error"]),
                ("refused", [r.name for r in self.results if r.state == "refused"]),
            )
            if names
        ]
        kind = {ExitCode.CHECK_FAILED: CheckFailed, ExitCode.REFUSED: Refused}.get(
            code, DbTasksError
        )
        return kind(f"validation {'; '.join(parts)}", "see the findings above")

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == ExitCode.OK,
            "exit_code": int(self.exit_code),
            "checks": [r.as_dict() for r in self.results],
        }


def choose(only: Iterable[str], skip: Iterable[str]) -> list[str]:
    """The checks to run, in their order; an unknown name is bad input."""
    only, skip = list(only), list(skip)
    known = (*CHECKS, *ON_REQUEST)
    for name in [*only, *skip]:
        if name not in known:
            raise ConfigError(f"there is no check {name!r}", f"choose from {', '.join(known)}")
    chosen = [c for c in CHECKS if (not only or c in only) and c not in skip]
    return chosen + [c for c in ON_REQUEST if c in only and c not in skip]


class Run:
    """One validation: the results by check, and the pieces they share, opened once."""

    def __init__(self, settings: Settings, console: Console, chosen: list[str]) -> None:
        self.settings = settings
        self.console = console
        self.results = {name: CheckResult(name) for name in chosen}
        self.captured: dict[str, list[str]] = {}
        self.allow_remote = False

    def chosen(self, name: str) -> CheckResult | None:
        result = self.results.get(name)
        return None if result is None or result.skipped or result.error else result

    @contextmanager
    def check(self, *names: str) -> Iterator[list[CheckResult | None]]:
        """Time checks that share their work, and turn what stops them into their
        results; a check not chosen comes as None."""
        results = [self.chosen(name) for name in names]
        live = [r for r in results if r is not None]
        started = time.perf_counter()
        try:
            yield results
        except Refused as exc:
            for result in live:
                result.error, result.refused = _refused(self.settings, exc), True
        except DbTasksError as exc:
            for result in live:
                result.error = exc.render()
        finally:
            for result in live:
                result.seconds += (time.perf_counter() - started) / len(live)

    def skip(self, names: Iterable[str], why: str) -> None:
        for name in names:
            if name in self.results and not self.results[name].findings:
                self.results[name].skipped = why


def _refused(settings: Settings, exc: Refused) -> str:
    return (
        f"cannot build a scratch database on {settings.masked_url}: {exc.message} — run "
        "db.validate against a local server (e.g. the native stack, DB_HOST=127.0.0.1), or "
        "pass --allow-remote for a remote server of your own"
    )


def validate(
    settings: Settings, console: Console, chosen: list[str], allow_remote: bool = False
) -> Report:
    """Every chosen check, in the read-only shape: it reads the target and writes only to
    the scratch databases the guard grants it."""
    from dbtasks.workflow import read

    def checks(work: Work) -> Report:
        run = Run(settings, console, chosen)
        run.allow_remote = allow_remote
        _run_checks(run, work)
        return Report(list(run.results.values()))

    return read(checks, settings, console, needs_database=False)


def _run_checks(run: Run, work: Work) -> None:
    ws = _load(run, work)
    if ws is not None:
        _target_checks(run, ws)
        with run.check("transactions") as (result,):
            if result is not None:
                result.findings += _checks().transactions(ws)
        _schema_checks(run, ws)
        _lint(run, ws)
        _squash(run, ws)
        _plan(run, work)


def _plan(run: Run, work: Work) -> None:
    """db.plan of the configured database's pending revisions, as findings."""
    with run.check("plan") as (result,):
        if result is None:
            return
        from dbtasks.health import probe
        from dbtasks.plan.report import findings
        from dbtasks.plan.run import Options, plan

        probe(run.settings.endpoint)
        result.findings += findings(plan(work, Options(allow_remote=run.allow_remote)))


def _checks() -> Any:
    from dbtasks.validate import checks

    return checks


def _load(run: Run, work: Work) -> Workspace | None:
    from dbtasks.adapter.errors import RevisionError

    try:
        ws = work.ws
    except RevisionError as exc:
        with run.check("graph") as (result,):
            if result is not None:
                result.findings.append(fail(exc.render()))
        run.skip(CHECKS, "the revision history could not be read")
        return None
    with run.check("graph") as (result,):
        if result is not None:
            result.findings += _checks().graph(ws, run.settings)
    return ws


def _target_checks(run: Run, ws: Workspace) -> None:
    """database and checksums: both read the configured database, nothing else."""
    if not {"database", "checksums"} & set(run.results):
        return
    from dbtasks import pg
    from dbtasks.health import probe
    from dbtasks.migrations import journal
    from dbtasks.migrations.version_table import locate, read_current

    with run.check("database", "checksums") as (result, sums):
        probe(run.settings.endpoint)
        with pg.session(run.settings.endpoint) as cur:
            current = read_current(cur, locate(cur, run.settings))
            entries = journal.read(cur, run.settings.schema)
        if result is not None:
            result.findings += _checks().database(ws, current)
        if sums is not None:
            from dbtasks.squash.frozen import applied_before_squash

            entries = [e for e in entries if not applied_before_squash(ws, e)]
            sums.findings += _checks().checksums(ws, entries, current)


def _schema_checks(run: Run, ws: Workspace) -> None:
    wanted = {"drift", "roundtrip"} & set(run.results)
    if "drift" in wanted and not run.settings.metadata:
        run.results["drift"].skipped = "no models configured (DB_METADATA)"
        wanted.discard("drift")
    if not wanted:
        return  # lint then uses offline SQL only
    from dbtasks.validate import schema_pass
    from dbtasks.validate.scratch import scratch_database

    order = list(ws.graph.pending(()))
    drift_seconds = 0.0
    with (
        run.check("roundtrip", "drift") as (rt, dr),
        scratch_database(run.settings, run.console, run.allow_remote) as scratch,
        closing(schema_pass.Scratchpad(scratch)) as pad,
    ):
        up = schema_pass.upward(ws, pad.connection, order, scratch.grant, shapes=rt is not None)
        run.captured = up.sql
        if dr is not None:
            started = time.perf_counter()
            dr.findings += schema_pass.drift(ws, pad.connection, scratch.grant)
            drift_seconds = time.perf_counter() - started
        if rt is not None:
            rt.findings += schema_pass.downward(ws, pad, order, up, scratch.grant)
    if rt is not None and dr is not None:
        # The scratch database and both passes are the round trip's; drift is the compare.
        rt.seconds, dr.seconds = rt.seconds + dr.seconds - drift_seconds, drift_seconds


def _squash(run: Run, ws: Workspace) -> None:
    """Each squashed baseline, proven equal to the revisions it replaces once more. A
    history without one has no such check to report (unless it is the only one asked)."""
    from dbtasks.squash.frozen import baselines

    if "squash" in run.results and not baselines(ws):
        if len(run.results) > 1:
            del run.results["squash"]
        else:
            run.results["squash"].skipped = "the history holds no squashed baseline"
        return
    with run.check("squash") as (result,):
        if result is None:
            return
        from dbtasks.squash.verify import verify

        result.findings += verify(ws, run.console, run.allow_remote)


def _lint(run: Run, ws: Workspace) -> None:
    with run.check("lint") as (result,):
        if result is None:
            return
        from dbtasks.validate.lint import lint

        unrendered: list[Finding] = []
        result.findings += lint(ws, _sql_for(run, ws, unrendered), run.settings)
        result.findings += unrendered


def _sql_for(run: Run, ws: Workspace, notes: list[Finding]) -> Callable[[str], str]:
    """Offline SQL, else what the revision sent to the scratch database."""
    from dbtasks.adapter.offline import revision_sql

    def sql_for(revision: str) -> str:
        try:
            return revision_sql(ws, revision)
        except DbTasksError:
            if revision in run.captured:
                return ";\n".join(run.captured[revision]) + ";\n"
            path = ws.relpath(ws.graph.get(revision).path)
            notes.append(
                warn(
                    "cannot write its SQL offline and no scratch run captured it: run the "
                    "drift or roundtrip check too to lint it",
                    revision,
                    path,
                )
            )
            return ""

    return sql_for
