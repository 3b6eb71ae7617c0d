"""Start-up cost: `inv --list` and `inv stack.up` on a running stack, side by side.

    python bench/startup.py [--runs N]

Prints median times and ratios; exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import report, run, time_command
from tests.support import REPO, make_settings, scratch_dir, settings_env

ONE_TASK = 'from invoke import task\n\n\n@task\ndef hello(c):\n    """Say hello."""\n'
INV = [sys.executable, "-m", "invoke"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with scratch_dir("bench-startup") as root:
        ours, baseline = root / "ours", root / "baseline"
        ours.mkdir()
        baseline.mkdir()
        shutil.copy(REPO / "tasks.py", ours / "tasks.py")
        (ours / "pyproject.toml").write_text("[tool.dbtasks]\n")
        (baseline / "tasks.py").write_text(ONE_TASK)
        env = settings_env(make_settings(ours))
        run([*INV, "stack.up"], ours, env)  # create and start the cluster
        try:
            list_ours = time_command([*INV, "--list"], ours, env, runs)
            list_base = time_command([*INV, "--list"], baseline, env, runs)
            up_running = time_command([*INV, "stack.up"], ours, env, runs)
        finally:
            run([*INV, "stack.down"], ours, env)
    ok = report("inv --list: dbtasks vs one-task tasks.py", list_ours, list_base, 1.3)
    ok &= report("inv stack.up (running) vs inv --list", up_running, list_ours, 1.5)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
