"""Where one `inv db.upgrade` from empty spends its time: cProfile around the real command.

    python -m bench.profile [--revisions 500] [--top 30] [--bytecode off|on] [--timer cpu]

Same server, project and checks as the bench: the database is empty before and at head
with every object after, so the profile is of the run the bench times. Writes the raw
profile next to the JSON results (`bench/results/upgrade.prof`, for snakeviz & co.).
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import proc
from bench.checks import require_at_head, require_empty
from bench.context import Bench
from bench.options import RESULTS
from bench.server import bench_server

DATABASE = "profiled"
# cProfile's command line has no timer option: the CPU timer shows the client's own work
# alone, unaffected by waiting on the server or by other work on the machine.
RUNNER = """
import cProfile, runpy, sys, time
out, timer = sys.argv[1], sys.argv[2]
sys.argv = ["invoke", *sys.argv[3:]]
profile = cProfile.Profile(time.process_time if timer == "cpu" else time.perf_counter)
try:
    profile.runcall(runpy.run_module, "invoke", run_name="__main__", alter_sys=True)
finally:
    profile.dump_stats(out)
"""


def profile_upgrade(bench: Bench, revisions: int, output: Path, timer: str = "wall") -> None:
    project = bench.project(revisions)
    env = bench.ours(DATABASE)
    if bench.mode.name == "on":  # fill the cache first, as the bench's warm-up does
        bench.server.recreate(DATABASE)
        proc.run([*proc.INV, "db.upgrade"], project.root, env)
    bench.server.recreate(DATABASE)
    require_empty(bench.server.state(DATABASE), DATABASE)
    output.parent.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-c", RUNNER, str(output), timer, "db.upgrade"]
    proc.run(args, project.root, env)
    require_at_head(bench.server.state(DATABASE), project.history, DATABASE)


def summary(path: Path, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--revisions", type=int, default=500, help="history size (default 500)")
    parser.add_argument("--top", type=int, default=30, help="entries to print (default 30)")
    parser.add_argument("--bytecode", choices=("off", "on"), default="off", help="cache mode")
    parser.add_argument("--timer", choices=("wall", "cpu"), default="wall", help="what to time")
    args = parser.parse_args(argv)
    from tests.support import scratch_dir

    output = RESULTS.with_name("upgrade.prof")
    with scratch_dir("bench-profile") as root, bench_server(root) as server:
        mode = proc.Mode(args.bytecode, root / "pycache" if args.bytecode == "on" else None)
        bench = Bench(server, root, mode, proc.base_env())
        profile_upgrade(bench, args.revisions, output, args.timer)
    print(summary(output, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
