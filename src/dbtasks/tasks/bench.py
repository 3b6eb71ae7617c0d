"""`inv bench`: dbtasks side by side with raw Alembic, psql and bare Postgres tools.

Thin: the harness lives in the repository's `bench/` package (not shipped with the
library), imported only when the task runs so `inv --list` pays nothing for it.
"""

from __future__ import annotations

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

# The same words as `python -m bench --help` (bench/options.py); a test keeps them in step.
HELP = {
    "quick": "a smoke run: N=100, growth at 50/100/200, 3 repetitions",
    "full": "add N=3000 to the growth series (slow: several minutes more per mode)",
    "only": "comma-separated cases: startup, status, noop, upgrade, reset, plugin, init, "
    "validate, growth",
    "reps": "timed runs of each side (default 5; 3 with --quick)",
    "revisions": "N, the history size of the main comparisons (default 500; 100 with --quick)",
    "growth": "comma-separated N of the growth series (default 100,500,1000)",
    "bytecode": "Python bytecode cache: off, on or both (default both)",
    "warmups": "untimed runs of each side before timing (default 1; always 1+ when on)",
    "output": "where to write the JSON results (default bench/results/latest.json)",
}


@task(help=HELP)
def bench(
    c: Context,
    quick: bool = False,
    full: bool = False,
    only: str = "",
    reps: int = 0,
    revisions: int = 0,
    growth: str = "",
    bytecode: str = "both",
    warmups: int = 1,
    output: str = "",
) -> None:
    """Compare dbtasks with raw Alembic and psql side by side; print medians and ratios."""
    try:
        from bench.cli import run
        from bench.options import Flags, make_options
    except ImportError:
        raise Exit("error: `inv bench` runs from the dbtasks repository (its bench/)", 2) from None
    from dbtasks.console import Console

    flags = Flags(quick, full, only, reps, revisions, growth, bytecode, warmups, output)
    try:
        options = make_options(flags)
    except ValueError as exc:
        raise Exit(f"error: {exc}", 2) from None
    code = run(options, Console())
    if code:
        raise Exit("error: a precondition or result check failed (see CHECK FAILED above)", code)
