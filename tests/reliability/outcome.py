"""What every command must look like from outside, whatever went wrong."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, unquote

from tests.support import HOSTILE_PASSWORD

# Every form in which the password could leak: as typed, percent-encoded as a URL would
# carry it (with and without "/" kept), form-encoded, and decoded once.
PASSWORD_FORMS = frozenset(
    {
        HOSTILE_PASSWORD,
        quote(HOSTILE_PASSWORD, safe=""),
        quote(HOSTILE_PASSWORD),
        quote_plus(HOSTILE_PASSWORD),
        unquote(HOSTILE_PASSWORD),
    }
)
EXIT_CODES = frozenset({0, 1, 2, 3, 4, 130})
MAX_STDERR_LINES = 3


@dataclass(frozen=True)
class Outcome:
    """What a finished command left: its exit code and everything it printed."""

    code: int
    stdout: str
    stderr: str

    @classmethod
    def of(cls, result: subprocess.CompletedProcess[str]) -> Outcome:
        return cls(result.returncode, result.stdout, result.stderr)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def describe(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def leaked_password(text: str) -> bool:
    return any(form in text for form in PASSWORD_FORMS)


def assert_clean(outcome: Outcome) -> None:
    """No traceback and no password anywhere, and an exit code from the README's table."""
    assert "Traceback" not in outcome.output, outcome.describe()
    assert not leaked_password(outcome.output), outcome.describe()
    assert outcome.code in EXIT_CODES, outcome.describe()


def assert_refusal(outcome: Outcome, code: int, needle: str = "") -> None:
    """A documented failure: the expected code, a short stderr naming `needle`, clean."""
    assert_clean(outcome)
    assert outcome.code == code, outcome.describe()
    assert 0 < len(outcome.stderr_lines) <= MAX_STDERR_LINES, outcome.describe()
    assert needle.lower() in outcome.stderr.lower(), outcome.describe()
