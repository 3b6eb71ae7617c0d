"""Developer tasks: test, lint, fmt (run from the repository root)."""

from __future__ import annotations

import shlex
import sys

from invoke.context import Context
from invoke.tasks import task

PYTHON = sys.executable


def _run(c: Context, *args: str) -> None:
    c.run(shlex.join(args), pty=False)


@task(
    help={
        "k": "only run tests matching this pytest -k expression",
        "coverage": "measure coverage of src/dbtasks and print a report",
        "fast": "skip the integration and end-to-end tiers (no Postgres needed)",
    }
)
def test(c: Context, k: str = "", coverage: bool = False, fast: bool = False) -> None:
    """Run the test suite (it starts its own Postgres)."""
    args = [PYTHON, "-m", "pytest"]
    if k:
        args += ["-k", k]
    if coverage:
        args += ["--cov=dbtasks", "--cov-report=term-missing:skip-covered"]
    if fast:
        args += ["-m", "not integration and not e2e"]
    _run(c, *args)


@task
def lint(c: Context) -> None:
    """Check style and types: ruff and mypy."""
    _run(c, PYTHON, "-m", "ruff", "check", ".")
    _run(c, PYTHON, "-m", "ruff", "format", "--check", ".")
    _run(c, PYTHON, "-m", "mypy")


@task
def fmt(c: Context) -> None:
    """Format the code and apply safe lint fixes."""
    _run(c, PYTHON, "-m", "ruff", "format", ".")
    _run(c, PYTHON, "-m", "ruff", "check", "--fix", ".")
