"""Bad inputs as data: what to run, with which environment, and what must come back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pytest

from tests.projects import ScratchProject
from tests.reliability.outcome import Outcome, assert_refusal
from tests.support import HOSTILE_PASSWORD


@dataclass(frozen=True)
class Case:
    """`inv ARGS` with `env` on top of the project's; `code` and `needle` are expected.

    Environment values may name {port}, {db}, {pw} (the password as typed), {pw_url} (it
    percent-encoded for a URL) and {pw_at} (it decoded once: it then holds a bare "@")."""

    name: str
    args: tuple[str, ...]
    code: int
    needle: str = ""
    env: Mapping[str, str] = field(default_factory=dict)

    def environment(self, project: ScratchProject) -> dict[str, str]:
        values = {
            "port": project.env["DB_PORT"],
            "db": project.env["DB_NAME"],
            "pw": HOSTILE_PASSWORD,
            "pw_url": quote(HOSTILE_PASSWORD, safe=""),
            "pw_at": unquote(HOSTILE_PASSWORD),
        }
        return {key: value.format(**values) for key, value in self.env.items()}

    def run(self, project: ScratchProject) -> Outcome:
        return Outcome.of(project.inv(*self.args, **self.environment(project)))

    def check(self, outcome: Outcome) -> None:
        assert_refusal(outcome, self.code, self.needle)


def case(name: str, *args: str, code: int, needle: str = "", **env: str) -> Case:
    return Case(name, args, code, needle, env)


def params(cases: list[Case], known: Mapping[str, str] | None = None) -> list[Any]:
    """pytest params named after their cases; those in `known` are strict expected failures
    (a defect found here, with its reason)."""
    known = known or {}
    unknown = set(known) - {c.name for c in cases}
    assert not unknown, unknown
    return [
        pytest.param(
            c,
            id=c.name,
            marks=[pytest.mark.xfail(strict=True, reason=known[c.name], raises=AssertionError)]
            if c.name in known
            else [],
        )
        for c in cases
    ]


# Cases are independent `inv` processes: running a few at once keeps the corpus quick on
# two cores, since much of each run is spent importing and waiting on the server.
WORKERS = 4


def run_all(cases: list[Case], project_for: Callable[[Case], ScratchProject]) -> dict[str, Outcome]:
    """Every case's outcome, by name; `project_for` gives the project each runs in."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = pool.map(lambda c: c.run(project_for(c)), cases)
        return {c.name: outcome for c, outcome in zip(cases, outcomes, strict=True)}
