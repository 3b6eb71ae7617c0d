"""Where one `inv db.upgrade` from empty spends its time: cProfile around the real command.

    python -m bench.profile [--revisions 500] [--top 30] [--bytecode off|on] [--timer cpu]
    python -m bench.profile --case validate [--revisions 100] ...
    python -m bench.profile --case alembic ...   # raw `alembic upgrade head`, same history

Same server, project and checks as the bench: the database is empty before and at head
with every object after (with `--case validate`: `inv db.validate` on the validate case's
models must pass every check), so the profile is of the run the bench times. Writes the
raw profile next to the JSON results (`bench/results/<case>.prof`, for snakeviz & co.).
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import proc
from bench.cases.validate import ValidateRun
from bench.checks import require_at_head, require_empty
from bench.context import Bench
from bench.options import RESULTS
from bench.outcomes import require_validated
from bench.server import bench_server

DATABASE = "profiled"
# cProfile's command line has no timer option: the CPU timer shows the client's own work
# alone, unaffected by waiting on the server or by other work on the machine.
RUNNER = """
import cProfile, runpy, sys, time
out, timer, module = sys.argv[1:4]
sys.argv = [module, *sys.argv[4:]]
profile = cProfile.Profile(time.process_time if timer == "cpu" else time.perf_counter)
try:
    profile.runcall(runpy.run_module, module, run_name="__main__", alter_sys=True)
finally:
    profile.dump_stats(out)
"""


def profile_upgrade(bench: Bench, revisions: int, output: Path, timer: str = "wall") -> None:
    _profile_from_empty(bench, revisions, output, timer, raw=False)


def profile_alembic(bench: Bench, revisions: int, output: Path, timer: str = "wall") -> None:
    """The same run by raw `alembic upgrade head`, to compare phase by phase."""
    _profile_from_empty(bench, revisions, output, timer, raw=True)


def _profile_from_empty(bench: Bench, revisions: int, output: Path, timer: str, raw: bool) -> None:
    project = bench.project(revisions)
    env = bench.raw(DATABASE) if raw else bench.ours(DATABASE)
    module, command = (
        ("alembic", ["-c", str(project.raw_ini), "upgrade", "head"])
        if raw
        else ("invoke", ["db.upgrade"])
    )
    # One untimed run first, as the bench's warm-up does: it fills Python's cache (mode
    # on) and dbtasks' own revision bytecode cache (both modes).
    bench.server.recreate(DATABASE)
    proc.run([sys.executable, "-m", module, *command], project.root, env)
    bench.server.recreate(DATABASE)
    require_empty(bench.server.state(DATABASE), DATABASE)
    output.parent.mkdir(parents=True, exist_ok=True)
    proc.run(
        [sys.executable, "-c", RUNNER, str(output), timer, module, *command], project.root, env
    )
    require_at_head(bench.server.state(DATABASE), project.history, DATABASE)


def profile_validate(bench: Bench, revisions: int, output: Path, timer: str = "wall") -> None:
    case = ValidateRun(bench, bench.project(revisions))
    case.setup()
    args = [sys.executable, "-c", RUNNER, str(output), timer, "invoke", "db.validate", "--json"]
    if bench.mode.name == "on":
        case.prepare(case.ours_db)()
        proc.run([*proc.INV, "db.validate", "--json"], case.project.root, case.env(case.ours_db))
    case.prepare(case.ours_db)()
    output.parent.mkdir(parents=True, exist_ok=True)
    result = proc.run(args, case.project.root, case.env(case.ours_db))
    require_validated(result.stdout, case.project.history)


CASES = {"upgrade": profile_upgrade, "alembic": profile_alembic, "validate": profile_validate}


def summary(path: Path, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument(
        "--case",
        choices=tuple(CASES),
        default="upgrade",
        help="what to profile (alembic: raw `alembic upgrade head` on the same history)",
    )
    parser.add_argument("--revisions", type=int, help="history size (500; validate: 100)")
    parser.add_argument("--top", type=int, default=30, help="entries to print (default 30)")
    parser.add_argument("--bytecode", choices=("off", "on"), default="off", help="cache mode")
    parser.add_argument("--timer", choices=("wall", "cpu"), default="wall", help="what to time")
    args = parser.parse_args(argv)
    from tests.support import scratch_dir

    output = RESULTS.with_name(f"{args.case}.prof")
    profile = CASES[args.case]
    revisions = args.revisions or (100 if args.case == "validate" else 500)
    with scratch_dir("bench-profile") as root, bench_server(root) as server:
        mode = proc.Mode(args.bytecode, root / "pycache" if args.bytecode == "on" else None)
        bench = Bench(server, root, mode, proc.base_env())
        profile(bench, revisions, output, args.timer)
    print(summary(output, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
