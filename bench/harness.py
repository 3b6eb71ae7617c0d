"""Timing sides of a comparison interleaved, each run framed by its checks.

A comparison (`Case`) has sides (ours, the alternative, floors). Every repetition runs
each side once, in an order rotated per repetition, so drift of the machine (caches,
autovacuum, a noisy neighbour) falls on all sides alike instead of on whichever ran last.
Every run, warm-ups included, is: prepare (untimed), check the precondition, run (timed),
check the result, clean up. A failed check stops the case: its times are not reported.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.checks import CheckFailed


def nothing() -> None:
    """A step a side does not need."""


@dataclass(frozen=True)
class Side:
    name: str
    label: str  # the command as a reader would type it
    run: Callable[[], None]
    prepare: Callable[[], None] = nothing
    precondition: Callable[[], None] = nothing
    verify: Callable[[], None] = nothing
    cleanup: Callable[[], None] = nothing


@dataclass(frozen=True)
class Ratio:
    """ours / theirs, with the target it should meet (None: shown for information)."""

    ours: str
    theirs: str
    target: float | None


@dataclass(frozen=True)
class Case:
    name: str
    revisions: int | None
    sides: tuple[Side, ...]
    ratios: tuple[Ratio, ...]
    setup: Callable[[], None] = nothing  # untimed, once, before the warm-up


@dataclass
class CaseResult:
    name: str
    revisions: int | None
    mode: str
    labels: dict[str, str]
    samples: dict[str, list[float]]
    ratios: tuple[Ratio, ...]
    failure: str | None = None
    notes: list[str] = field(default_factory=list)

    def median(self, side: str) -> float | None:
        values = self.samples.get(side) or []
        return statistics.median(values) if values and self.failure is None else None

    def ratio(self, ratio: Ratio) -> float | None:
        ours, theirs = self.median(ratio.ours), self.median(ratio.theirs)
        return ours / theirs if ours is not None and theirs else None

    def verdict(self, ratio: Ratio) -> str:
        value = self.ratio(ratio)
        if value is None:
            return "FAILED" if self.failure else "n/a"
        if ratio.target is None:
            return "info"
        return "PASS" if value <= ratio.target else "MISS"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "revisions": self.revisions,
            "mode": self.mode,
            "failure": self.failure,
            "notes": self.notes,
            "sides": {
                name: {
                    "command": self.labels[name],
                    "samples_s": [round(s, 6) for s in values],
                    "median_s": _round(self.median(name)),
                }
                for name, values in self.samples.items()
            },
            "ratios": [
                {
                    "ours": r.ours,
                    "theirs": r.theirs,
                    "ratio": _round(self.ratio(r)),
                    "target": r.target,
                    "verdict": self.verdict(r),
                }
                for r in self.ratios
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def rotated(sides: tuple[Side, ...], repetition: int) -> list[Side]:
    shift = repetition % len(sides)
    return [*sides[shift:], *sides[:shift]]


def run_once(side: Side) -> float:
    """One framed run of a side; its wall-clock seconds."""
    try:
        side.prepare()
        side.precondition()
        started = time.perf_counter()
        side.run()
        elapsed = time.perf_counter() - started
        side.verify()
    finally:
        side.cleanup()
    return elapsed


def measure(case: Case, mode: str, repetitions: int, warmups: int) -> CaseResult:
    """Warm up, then time every side `repetitions` times, interleaved."""
    result = CaseResult(
        case.name,
        case.revisions,
        mode,
        {s.name: s.label for s in case.sides},
        {s.name: [] for s in case.sides},
        case.ratios,
    )
    current = "setup"
    try:
        case.setup()
        for _ in range(warmups):
            for side in case.sides:
                current = side.name
                run_once(side)
        for repetition in range(repetitions):
            for side in rotated(case.sides, repetition):
                current = side.name
                result.samples[side.name].append(run_once(side))
    except CheckFailed as exc:
        result.failure = f"{current}: {exc}"
    return result
