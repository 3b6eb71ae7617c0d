"""A results JSON as the Markdown docs/benchmarks.md shows.

python -m bench.markdown [bench/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.options import RESULTS


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def _spread(side: dict[str, Any]) -> str:
    samples, median = side["samples_s"], side["median_s"]
    if median is None or len(samples) < 2:
        return _ms(median)
    return f"{median * 1000:.0f} ±{(max(samples) - min(samples)) / 2 / median * 100:.0f}%"


def table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def results_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        for ratio in r["ratios"]:
            ours, theirs = r["sides"][ratio["ours"]], r["sides"][ratio["theirs"]]
            shown = _spread(ours)
            if ratio.get("minus"):
                shown = f"minus {ratio['minus']} = {_ms(ratio['ours_s'])}"
            rows.append(
                [
                    r["mode"],
                    r["name"],
                    "-" if r["revisions"] is None else str(r["revisions"]),
                    f"{ratio['ours']} {shown}",
                    f"{ratio['theirs']} {_spread(theirs)}",
                    "-" if ratio["ratio"] is None else f"{ratio['ratio']:.2f}x",
                    "-" if ratio.get("cpu_ratio") is None else f"{ratio['cpu_ratio']:.2f}x",
                    "-" if ratio["target"] is None else f"≤ {ratio['target']:g}x",
                    f"**{ratio['verdict']}**",
                ]
            )
    return rows


def _load(machine: dict[str, Any]) -> str:
    if "load_average_before" not in machine:
        return ""
    before, after = machine["load_average_before"], machine["load_average_after"]
    return f"; load average (1/5/15 min) {before} before, {after} after"


def render(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        f"Run {m['date']} at commit {m['commit']}: {m['cpu_count']} CPUs ({m['cpu']}), "
        f"Python {m['python']}, PostgreSQL {m['postgres']}, "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        + _load(m)
        + f"; {data['options']['reps']} repetitions.",
        "",
        *table(
            ("mode", "case", "N", "ours (ms)", "vs (ms)", "ratio", "cpu ratio", "target", "result"),
            results_rows(data["results"]),
        ),
    ]
    if data["slopes"]:
        lines += [
            "",
            *table(
                ("mode", "case", "side", "ms per revision", "fixed ms"),
                [
                    [
                        s["mode"],
                        s["case"],
                        s["side"],
                        f"{s['ms_per_revision']:.2f}",
                        f"{s['intercept_ms']:.0f}",
                    ]
                    for s in data["slopes"]
                ],
            ),
        ]
    failures = [r for r in data["results"] if r["failure"]]
    lines += [f"\nCHECK FAILED: {r['mode']} {r['name']}: {r['failure']}" for r in failures]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bench.markdown", description="Print a bench results JSON as Markdown."
    )
    parser.add_argument(
        "results", nargs="?", type=Path, default=RESULTS, help=f"(default {RESULTS})"
    )
    path = parser.parse_args(argv).results
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        text = render(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: cannot read {path} as bench results: {exc}", file=sys.stderr)
        return 1
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
