"""Shared bench helpers: timing commands by median over repeated runs."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def run(args: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(list(args), cwd=cwd, env=env, check=True, capture_output=True)


def time_command(args: Sequence[str], cwd: Path, env: dict[str, str], runs: int) -> float:
    """Median wall-clock seconds of `args` over `runs` runs (after one warm-up)."""
    samples = []
    for i in range(runs + 1):
        started = time.perf_counter()
        run(args, cwd, env)
        if i:
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def report(label: str, ours: float, theirs: float, target: float) -> bool:
    ratio = ours / theirs
    verdict = "ok" if ratio <= target else "MISSED"
    print(
        f"{label:<52} {ours * 1000:8.1f} ms vs {theirs * 1000:8.1f} ms  "
        f"ratio {ratio:5.2f}x  (target <= {target}x: {verdict})"
    )
    return ratio <= target
