"""`inv db.validate`: one CI gate over everything that breaks deploys.

Each check looks at one thing and reports findings: graph (heads, parents, ids, cycles),
database (its revision is known), checksums (files edited after they were applied),
transactions, lint (dangerous SQL), drift (models against migrations), round trip
(each downgrade undoes its upgrade) and squash (each squashed baseline rebuilds what the
revisions it replaced made); on request (`--only plan`), plan (what `db.plan` finds in
the pending revisions: a high risk fails, a medium one warns). A failing finding makes the
run exit 3.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Level(Enum):
    PASS = "pass"  # noqa: S105 - a check level, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """One thing a check found; `revision` and `file` name where, when it is one file."""

    level: Level
    message: str
    revision: str | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "level": self.level.value}


@dataclass
class CheckResult:
    name: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None  # why the check was not run (not a problem)
    error: str | None = None  # why the check could not run (exit 1)
    refused: bool = False  # the error is the guard's: it may not run on this target (exit 4)

    @property
    def level(self) -> Level:
        levels = {f.level for f in self.findings}
        for level in (Level.FAIL, Level.WARN):
            if level in levels:
                return level
        return Level.PASS

    @property
    def state(self) -> str:
        """pass, warn, fail, skipped, refused (the guard's no) or error (could not run)."""
        if self.error:
            return "refused" if self.refused else "error"
        return "skipped" if self.skipped else self.level.value

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "level": self.state,
            "skipped": self.skipped,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "findings": [f.as_dict() for f in self.findings],
        }


def fail(message: str, revision: str | None = None, file: str | None = None) -> Finding:
    return Finding(Level.FAIL, message, revision, file)


def warn(message: str, revision: str | None = None, file: str | None = None) -> Finding:
    return Finding(Level.WARN, message, revision, file)
