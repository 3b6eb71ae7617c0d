"""Timing sides of a comparison interleaved, each run framed by its checks.

A comparison (`Case`) has sides (ours, the alternative, floors). Every repetition runs
each side once, in an order rotated per repetition, so drift of the machine (caches,
autovacuum, a noisy neighbour) falls on all sides alike instead of on whichever ran last.
Every run, warm-ups included, is: prepare (untimed), check the precondition, run (timed),
check the result, clean up. A failed check stops the case: its times are not reported.
"""

from __future__ import annotations

import resource
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
    """ours / theirs, with the target it should meet (None: shown for information).

    With `minus`, the numerator is ours minus that side: the cost a feature adds to a run
    that does everything else the same (the pytest plugin's per-test database).
    """

    ours: str
    theirs: str
    target: float | None
    minus: str | None = None
    # Against psql the work is the server's, which a client's CPU time does not see.
    compare_cpu: bool = True

    @property
    def label(self) -> str:
        return f"{self.ours} - {self.minus}" if self.minus else self.ours


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
    # CPU seconds of each run's own processes (not the server's): far less disturbed than
    # wall-clock time by other work on the machine, so it tells noise from a difference.
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def median(self, side: str, cpu: bool = False) -> float | None:
        values = (self.cpu if cpu else self.samples).get(side) or []
        return statistics.median(values) if values and self.failure is None else None

    def numerator(self, ratio: Ratio, cpu: bool = False) -> float | None:
        ours = self.median(ratio.ours, cpu)
        if ratio.minus is None or ours is None:
            return ours
        base = self.median(ratio.minus, cpu)
        return None if base is None else ours - base

    def ratio(self, ratio: Ratio, cpu: bool = False) -> float | None:
        if cpu and not ratio.compare_cpu:
            return None
        ours, theirs = self.numerator(ratio, cpu), self.median(ratio.theirs, cpu)
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
                    "cpu_samples_s": [round(s, 6) for s in self.cpu.get(name, [])],
                    "cpu_median_s": _round(self.median(name, cpu=True)),
                }
                for name, values in self.samples.items()
            },
            "ratios": [
                {
                    "ours": r.ours,
                    "minus": r.minus,
                    "theirs": r.theirs,
                    "ours_s": _round(self.numerator(r)),
                    "ratio": _round(self.ratio(r)),
                    "cpu_ratio": _round(self.ratio(r, cpu=True)),
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(side: Side) -> tuple[float, float]:
    """One framed run of a side: its wall-clock and its processes' CPU seconds."""
    try:
        side.prepare()
        side.precondition()
        cpu, started = _children_cpu(), time.perf_counter()
        side.run()
        elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
        side.verify()
    finally:
        side.cleanup()
    return elapsed, cpu


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
                wall, cpu = run_once(side)
                result.samples[side.name].append(wall)
                result.cpu.setdefault(side.name, []).append(cpu)
    except CheckFailed as exc:
        result.failure = f"{current}: {exc}"
    return result
