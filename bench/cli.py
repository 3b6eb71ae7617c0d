"""`inv bench` / `python -m bench`: every comparison, in both bytecode modes, in one run.

It measures, it does not gate: missed targets still exit 0. A failed precondition or
result check exits 1, because the figure next to it would mean nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict

from bench import proc, report
from bench.cases import erd, everyday, init, migrate, plugin, real, reset, squash, startup, validate
from bench.cases import plan as plan_case
from bench.context import Bench
from bench.harness import Case, CaseResult, measure
from bench.options import HELP, Flags, Options, make_options, plan
from bench.project import Project
from bench.server import Server, bench_server
from dbtasks.console import Console

Builder = Callable[[Bench, int], Case]
BUILDERS: dict[str, Builder] = {
    "startup": startup.startup,
    "status": migrate.status,
    "noop": migrate.noop,
    "upgrade": migrate.upgrade,
    "everyday": everyday.everyday,
    "real": real.real,
    "reset": reset.reset,
    "plugin": plugin.plugin,
    "init": init.init,
    "validate": validate.validate,
    "plan": plan_case.plan,
    "squash": squash.squash,
    "erd": erd.erd,
}


def run_mode(
    bench: Bench, options: Options, console: Console, save: Callable[[CaseResult], None]
) -> None:
    """Run the plan in one mode, saving each result as it comes (a long run can be cut)."""
    # With the cache on, the warm-up is what fills it: it is never skipped.
    warmups = max(options.warmups, 1) if bench.mode.name == "on" else options.warmups
    for name, n in plan(options):
        if name == "upgrade" and n != options.revisions:
            case = migrate.upgrade(bench, n, per_revision_floor=False)
        else:
            case = BUILDERS[name](bench, n)
        started = time.perf_counter()
        result = measure(case, bench.mode.name, options.reps, warmups)
        if name == "plan":
            result.notes += plan_case.take_notes(result.median("plan"))
        if bench.server.psql is None and name in ("upgrade", "reset", "plugin"):
            result.notes.append("psql not found: the psql floors were skipped")
        if name == "erd":
            result.notes += erd.budgets(result)
        save(result)
        console.line(_progress(result, time.perf_counter() - started))


def _progress(result: CaseResult, took: float) -> str:
    medians = ", ".join(f"{side} {report.ms(result.median(side))} ms" for side in result.samples)
    status = f"CHECK FAILED: {result.failure}" if result.failure else medians
    return f"  [{result.mode}] {result.name} N={result.revisions}: {status} ({took:.0f}s)"


def run(options: Options, console: Console, server: Server | None = None) -> int:
    """Run every planned case in every mode and report; 1 if a check failed.

    The server is started here, with dbtasks' native backend, unless one is given (the
    smoke test shares the test suite's cluster).
    """
    from tests.support import scratch_dir

    if options.only and not plan(options):
        return _fleet(options)  # nothing but the fleet, which starts its own cluster
    with scratch_dir("bench") as root, ExitStack() as stack:
        if server is None:
            server = stack.enter_context(bench_server(root))
        if server.psql is None:
            console.warn("psql not found (server bindir, PATH, /usr/lib/postgresql): no floors")
        info = report.machine(server.binaries.version(), server.psql)
        projects: dict[int, Project] = {}
        results: list[CaseResult] = []

        def save(result: CaseResult) -> None:
            results.append(result)
            info["load_average_after"] = report.load_average()
            found = report.slopes(results)
            report.write_json(options.output, report.payload(info, options, results, found))

        for name in options.modes:
            mode = proc.Mode(name, root / "pycache" if name == "on" else None)
            console.line(f"{mode.label}:")
            run_mode(Bench(server, root, mode, proc.base_env(), projects), options, console, save)
    report.render(results, report.slopes(results), console)
    console.line(f"results written to {options.output}")
    failed = 1 if any(r.failure for r in results) else 0
    return max(failed, _fleet(options)) if "fleet" in options.only else failed


def _fleet(options: Options) -> int:
    """The fleet's numbers (`python -m bench.fleet`), at its own scale: a quick run is a
    tenth of it."""
    from bench import fleet

    scale = ["--tenants", "100", "--databases", "10", "--pending-tenants", "40"]
    return fleet.main([*(scale if options.quick else []), "--reps", str(min(options.reps, 3))])


def parser() -> argparse.ArgumentParser:
    """`python -m bench`'s flags: the same names, defaults and help as `inv bench`."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    for name, default in asdict(Flags()).items():
        flag = f"--{name}"
        if isinstance(default, bool):
            p.add_argument(flag, action="store_true", help=HELP[name])
        else:
            p.add_argument(flag, type=type(default), default=default, help=HELP[name])
    return p


def main(argv: Sequence[str] | None = None, server: Server | None = None) -> int:
    console = Console()
    try:
        options = make_options(Flags(**vars(parser().parse_args(argv))))
    except ValueError as exc:
        console.warn(str(exc))
        return 2
    return run(options, console, server)
