"""Garbage command lines for every task `inv --list` shows."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tests.projects import ScratchProject

# Tasks that run tools over the working tree: they only ever get garbage the parser itself
# rejects, so that nothing here can start a test run, a lint or a reformat.
DEV_TASKS = frozenset({"test", "lint", "fmt", "bench"})
GENERIC = (("--no-such-flag",), ("zzz-extra-positional",), ("",))
NUMBERS = ("abc", "-1", "99999999999999999999")
MESSAGES = ("   ", "tab\there", "x" * 300)  # every one must be refused: no file is written
WORDS = ("", " ", "-1", "../../etc/passwd", "'; DROP SCHEMA app CASCADE; -- ünï\u200bcode")
# Alembic asserts on an "@" without a branch and a revision around it.
REVISIONS = ("@", "@@", "5b9e@", "base:@", "@:head", "-", "+", "heads@")
KINDS = {
    "message": MESSAGES,
    "timeout": NUMBERS,
    "lines": NUMBERS,
    "revision": (*WORDS, *REVISIONS),
    "rev-range": (*WORDS, *REVISIONS),
}

_TASK_LINE = re.compile(r"^  (\S+)")
_VALUE_FLAG = re.compile(r"--([a-z][a-z0-9-]*)=STRING")


def list_tasks(project: ScratchProject) -> list[str]:
    """The task names `inv --list` prints, in its order."""
    listing = project.inv("--list")
    assert listing.returncode == 0, listing.stderr
    body = listing.stdout.split("Available tasks:", 1)[1]
    return [m.group(1) for line in body.splitlines() if (m := _TASK_LINE.match(line))]


def value_flags(project: ScratchProject, task: str) -> list[str]:
    """The flags of `task` that take a value, from `inv --help TASK`."""
    shown = project.inv("--help", task)
    assert shown.returncode == 0, shown.stderr
    return _VALUE_FLAG.findall(shown.stdout)


def command_lines(task: str, flags: list[str]) -> Iterator[tuple[str, ...]]:
    """Garbage for one task: unknown flags, extra positionals, empty strings, a value flag
    given no value, and values of the wrong type or shape."""
    for garbage in GENERIC:
        yield (task, *garbage)
    if task in DEV_TASKS:
        return
    for flag in flags:
        yield (task, f"--{flag}")  # its value missing
        for value in KINDS.get(flag, WORDS):
            yield (task, f"--{flag}={value}")
