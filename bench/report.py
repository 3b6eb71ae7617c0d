"""Rendering results: the comparison table, per-revision slopes, the JSON file, the machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.harness import CaseResult
from bench.options import Options
from bench.project import REPO

if TYPE_CHECKING:
    from dbtasks.console import Console

GROWTH_CASES = ("status", "noop", "upgrade")
PACKAGES = (
    "dbtasks",
    "alembic",
    "sqlalchemy",
    "invoke",
    "psycopg2-binary",
    # the validate case: its alternative, the test runner, and the linter dbtasks runs
    "pytest-alembic",
    "pytest",
    "squawk-cli",
)


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _spread(result: CaseResult, side: str) -> str:
    """Median and half the range of the samples, in percent: how far to trust the median."""
    median, values = result.median(side), result.samples.get(side) or []
    if median is None or len(values) < 2:
        return ms(median)
    half_range = (max(values) - min(values)) / 2 / median * 100
    return f"{median * 1000:.0f} ±{half_range:.0f}%"


def rows(results: list[CaseResult]) -> list[tuple[str, ...]]:
    table: list[tuple[str, ...]] = []
    for result in results:
        n = "-" if result.revisions is None else str(result.revisions)
        for ratio in result.ratios:
            value = result.ratio(ratio)
            table.append(
                (
                    result.mode,
                    result.name,
                    n,
                    ratio.label,
                    _spread(result, ratio.ours) if not ratio.minus else ms(result.numerator(ratio)),
                    ratio.theirs,
                    _spread(result, ratio.theirs),
                    "-" if value is None else f"{value:.2f}x",
                    _x(result.ratio(ratio, cpu=True)),
                    "-" if ratio.target is None else f"<= {ratio.target:g}x",
                    result.verdict(ratio),
                )
            )
    return table


def slopes(results: list[CaseResult]) -> list[dict[str, Any]]:
    """Least-squares ms per revision of every side of the growth cases, per mode."""
    found: list[dict[str, Any]] = []
    keys = sorted({(r.mode, r.name) for r in results if r.name in GROWTH_CASES})
    for mode, name in keys:
        cases = [r for r in results if (r.mode, r.name) == (mode, name) and r.revisions]
        for side in dict.fromkeys(s for r in cases for s in r.samples):
            points = [(r.revisions or 0, r.median(side)) for r in cases]
            usable = [(n, t) for n, t in points if t is not None]
            if len({n for n, _ in usable}) < 2:
                continue
            slope, intercept = _fit(usable)
            found.append(
                {
                    "mode": mode,
                    "case": name,
                    "side": side,
                    "ms_per_revision": round(slope * 1000, 3),
                    "intercept_ms": round(intercept * 1000, 1),
                    "points": [[n, round(t, 4)] for n, t in usable],
                }
            )
    return found


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    mean_n = sum(n for n, _ in points) / len(points)
    mean_t = sum(t for _, t in points) / len(points)
    spread = sum((n - mean_n) ** 2 for n, _ in points)
    slope = sum((n - mean_n) * (t - mean_t) for n, t in points) / spread
    return slope, mean_t - slope * mean_n


def render(results: list[CaseResult], found: list[dict[str, Any]], console: Console) -> None:
    console.line("")
    console.table(
        ("mode", "case", "N", "ours", "ms", "vs", "ms", "ratio", "cpu", "target", "result"),
        rows(results),
    )
    if found:
        console.line("")
        console.line("growth (least squares over N):")
        console.table(
            ("mode", "case", "side", "ms/revision", "intercept ms", "N"),
            [
                (
                    s["mode"],
                    s["case"],
                    s["side"],
                    f"{s['ms_per_revision']:.2f}",
                    f"{s['intercept_ms']:.0f}",
                    ",".join(str(n) for n, _ in s["points"]),
                )
                for s in found
            ],
        )
    for result in results:
        for note in result.notes:
            console.line(f"note: {result.mode} {result.name}: {note}")
        if result.failure:
            console.line(
                f"CHECK FAILED: {result.mode} {result.name} N={result.revisions}: {result.failure}"
            )


def machine(binaries_version: str, psql: str | None) -> dict[str, Any]:
    """Where the figures came from: enough to tell whether two runs are comparable."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        # Other work on the machine shows here: compare it before trusting a difference.
        "load_average_before": load_average(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "postgres": binaries_version,
        "psql": psql or "missing",
        "packages": {name: _version(name) for name in PACKAGES},
        "commit": _commit(),
    }


def load_average() -> list[float]:
    return [round(n, 2) for n in os.getloadavg()]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def _commit() -> str:
    result = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def payload(
    info: dict[str, Any], options: Options, results: list[CaseResult], found: list[dict[str, Any]]
) -> dict[str, Any]:
    settings = asdict(options)
    settings["output"] = str(options.output)
    return {
        "machine": info,
        "options": settings,
        "results": [r.as_dict() for r in results],
        "slopes": found,
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
