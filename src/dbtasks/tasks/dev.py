"""Developer tasks: test, lint, fmt (run from the repository root)."""

from __future__ import annotations

import shlex
import sys

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

PYTHON = sys.executable


def _run(c: Context, *args: str, warn: bool = False) -> bool:
    """Run a command; True when it succeeded (with `warn`, a failure does not raise)."""
    result = c.run(shlex.join(args), pty=False, warn=warn)
    return result is not None and result.ok


@task(
    help={
        "k": "only run tests matching this pytest -k expression",
        "coverage": "measure branch coverage of src/dbtasks, the `inv` subprocesses included "
        "(default; a full run fails under 90%)",
        "fast": "only the unit tier (no Postgres): the inner loop",
        "docker": "only the docker tier: the compose backend on a real engine "
        "(`.ci/docker-engine` first)",
    }
)
def test(
    c: Context, k: str = "", coverage: bool = True, fast: bool = False, docker: bool = False
) -> None:
    """Run the test suite (it starts its own Postgres) and gate on coverage."""
    args = ["-m", "pytest"]
    if k:
        args += ["-k", k]
    if docker:
        args += ["-m", "docker"]  # one engine: its tests run one at a time
    else:
        # Every other tier, on every core: tests are isolated by database and port, and a
        # module's shared fixtures stay in one worker (loadscope).
        args += ["-n", "auto", "--dist", "loadscope"]
        args += ["-m", "not integration and not e2e and not docker" if fast else "not docker"]
    if not coverage:
        _run(c, PYTHON, *args)
        return
    _run(c, PYTHON, "-m", "coverage", "erase")
    passed = _run(c, PYTHON, "-m", "coverage", "run", *args, warn=True)
    _run(c, PYTHON, "-m", "coverage", "combine", "--quiet")
    # A partial run cannot reach the bar: it reports without failing.
    gate = [] if not (k or fast or docker) else ["--fail-under=0"]
    covered = _run(c, PYTHON, "-m", "coverage", "report", *gate, warn=True)
    if not passed:
        raise Exit("tests failed", 1)
    if not covered:
        raise Exit("coverage of src/dbtasks is under the bar (see the table above)", 1)


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
