"""What one bench run does: flags in, a validated plan of (case, N) pairs out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bench.project import REPO

CASES = (
    *("startup", "status", "noop", "upgrade", "reset", "plugin", "init", "validate"),
    *("everyday", "real", "plan", "growth", "squash", "erd", "fleet"),
)
# Cases that run only when named: the fleet starts a cluster of its own and 1,000 schemas.
NAMED_ONLY = ("fleet",)
ERD_TABLES = 1000  # the erd case's N: tables, not revisions
MODES = ("off", "on")
RESULTS = REPO / "bench" / "results" / "latest.json"


@dataclass(frozen=True)
class Flags:
    """The flags of `inv bench` and `python -m bench`, as typed; 0 and "" mean default."""

    quick: bool = False
    full: bool = False
    only: str = ""
    reps: int = 0
    revisions: int = 0
    growth: str = ""
    bytecode: str = "both"
    warmups: int = 1
    output: str = ""


@dataclass(frozen=True)
class Options:
    revisions: int = 500
    # The validate case's N unless --revisions sets one: pytest-alembic's side runs the
    # history four times over, one revision at a time (a minute a run at N=500).
    validate_revisions: int = 100
    growth: tuple[int, ...] = (100, 500, 1000)
    reps: int = 5
    warmups: int = 1
    modes: tuple[str, ...] = MODES
    only: tuple[str, ...] = ()
    output: Path = RESULTS
    quick: bool = False


def make_options(flags: Flags) -> Options:
    """Options from flags; a ValueError names the bad flag."""
    if flags.quick and flags.full:
        raise ValueError("--quick and --full exclude each other")
    options = Options()
    if flags.quick:
        options = replace(options, revisions=100, growth=(50, 100, 200), reps=3)
    if flags.full:
        options = replace(options, growth=(*options.growth, 3000))
    if flags.bytecode not in (*MODES, "both"):
        raise ValueError(f"--bytecode {flags.bytecode!r}: choose off, on or both")
    if min(flags.reps, flags.revisions, flags.warmups) < 0:
        raise ValueError("--reps, --revisions and --warmups cannot be negative")
    return replace(
        options,
        only=_names(flags.only),
        growth=_numbers(flags.growth) or options.growth,
        reps=flags.reps or options.reps,
        revisions=flags.revisions or options.revisions,
        validate_revisions=flags.revisions or options.validate_revisions,
        modes=MODES if flags.bytecode == "both" else (flags.bytecode,),
        warmups=flags.warmups,
        output=Path(flags.output) if flags.output else RESULTS,
        quick=flags.quick,
    )


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise ValueError(f"--only {unknown[0]!r}: choose from {', '.join(CASES)}")
    return names


def _numbers(text: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(n) for n in text.split(",") if n.strip())
    except ValueError:
        raise ValueError(f"--growth {text!r}: expected numbers like 100,500,1000") from None
    if any(n < 1 for n in numbers):
        raise ValueError("--growth: every N must be at least 1")
    return numbers


def plan(options: Options) -> list[tuple[str, int]]:
    """(case, N) pairs in running order: small N first, each pair once.

    The growth series runs status, no-op and upgrade at each of its N; at the main N
    those are the main comparisons themselves, not a second measurement. validate runs
    at its own N (100 unless --revisions names one); erd last, at N=1000 tables.
    """
    wanted = set(options.only or CASES) - set(NAMED_ONLY)
    growth = set(options.growth) if "growth" in wanted else set()
    pairs = [("startup", options.revisions)] if "startup" in wanted else []
    for n in sorted(growth | {options.revisions}):
        for name in ("status", "noop", "upgrade"):
            if n in growth or (name in wanted and n == options.revisions):
                pairs.append((name, n))
    main = ("everyday", "reset", "plugin", "init", "squash")
    pairs += [(n, options.revisions) for n in main if n in wanted]
    if "real" in wanted:
        pairs.append(("real", 0))  # N is each real history's own
    if "validate" in wanted:
        pairs.append(("validate", options.validate_revisions))
    if "plan" in wanted:
        pairs.append(("plan", 50))  # the figure: 50 pending revisions
    if "erd" in wanted:
        pairs.append(("erd", ERD_TABLES))
    return pairs


HELP = {
    "quick": "a smoke run: N=100, growth at 50/100/200, 3 repetitions",
    "full": "add N=3000 to the growth series (slow: several minutes more per mode)",
    "only": f"comma-separated cases to run: {', '.join(CASES)} (default: all but fleet, "
    "which runs only when named: python -m bench.fleet)",
    "reps": "timed runs of each side (default 5; 3 with --quick)",
    "revisions": "N, the history size of the main comparisons (default 500; 100 with --quick)",
    "growth": "comma-separated N of the growth series (default 100,500,1000)",
    "bytecode": "Python bytecode cache: off, on or both (default both)",
    "warmups": "untimed runs of each side before timing (default 1; always 1+ when on)",
    "output": f"where to write the JSON results (default {RESULTS.relative_to(REPO)})",
}
