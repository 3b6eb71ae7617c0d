"""Running the programs under measurement, and the Python settings they run with.

Both sides of every comparison run as subprocesses of the same interpreter with the same
environment apart from what names their database, so a ratio compares the tools, not
their surroundings.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.checks import CheckFailed

INV = (sys.executable, "-m", "invoke")
ALEMBIC = (sys.executable, "-m", "alembic")
PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
TIMEOUT = 900.0
# Variables that would point a side at another database or change how Python caches code.
_DROPPED = ("DB_", "DATABASE_URL", "PG", "BENCH_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")


@dataclass(frozen=True)
class Mode:
    """A bytecode-cache setting, the same for every side of a comparison.

    `off` is this machine's default: nothing is written, so revision files and the
    editable dbtasks sources compile on every run (installed packages still use the
    .pyc files pip wrote). `on` caches everything under a private prefix, warmed by one
    untimed run, so nothing in the work tree or the virtualenv is touched.
    """

    name: str
    pycache: Path | None = None

    def env(self) -> dict[str, str]:
        if self.name == "off":
            return {"PYTHONDONTWRITEBYTECODE": "1"}
        assert self.pycache is not None
        return {"PYTHONPYCACHEPREFIX": str(self.pycache)}

    @property
    def label(self) -> str:
        if self.name == "off":
            return "bytecode cache off (PYTHONDONTWRITEBYTECODE=1)"
        return "bytecode cache on (warmed, PYTHONPYCACHEPREFIX)"


def base_env() -> dict[str, str]:
    """The caller's environment without anything that could steer a side elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}


def run(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one command; a non-zero exit is a failed check, never a timing."""
    try:
        result = subprocess.run(
            list(args),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"`{describe(args)}` did not finish in {TIMEOUT:g}s") from None
    if result.returncode != 0:
        raise CheckFailed(f"`{describe(args)}` exited {result.returncode}: {why(result)}")
    return result


def expect(result: subprocess.CompletedProcess[str], needle: str, what: str) -> None:
    """The run printed what it should have: it did the thing being timed."""
    if needle not in result.stdout + result.stderr:
        raise CheckFailed(f"{what}: expected {needle!r} in its output, got {tail(result)!r}")


def describe(args: Sequence[str]) -> str:
    """A command as shown in messages: the interpreter's path shortened."""
    shown = ["python" if a == sys.executable else a for a in args]
    return shlex.join(shown)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def why(result: subprocess.CompletedProcess[str]) -> str:
    """The line that says why a run failed: stderr's last, else pytest's first FAILED."""
    if result.stderr.strip():
        return last_line(result.stderr)
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    return failed[0] if failed else last_line(result.stdout)


def tail(result: subprocess.CompletedProcess[str]) -> str:
    return last_line(result.stdout + "\n" + result.stderr)
