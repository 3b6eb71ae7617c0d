"""What a validating tool reported, read from its machine-readable report.

`db.validate --json` and pytest's JUnit XML say which checks ran and how each ended. A
report that is missing a check, skipped one or found a problem fails the case: on models
that match the migrations, only a passing run is worth timing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.checks import CheckFailed
from bench.history import ALLOWED_RULE, History

# Written out, not imported from dbtasks: a check the command stopped running must show.
VALIDATE_CHECKS = ("graph", "database", "checksums", "transactions", "lint", "drift", "roundtrip")
ACKNOWLEDGED = "acknowledged: "


def require_validated(stdout: str, history: History) -> None:
    """Every check ran and passed; lint's only findings are the acknowledged indexes."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise CheckFailed(f"db.validate --json printed no JSON report: {exc}") from None
    checks: list[dict[str, Any]] = report.get("checks", [])
    names = tuple(c.get("check") for c in checks)
    if names != VALIDATE_CHECKS or report.get("ok") is not True:
        raise CheckFailed(f"db.validate ran {names}, ok={report.get('ok')}: expected every check")
    for check in checks:
        if check["check"] == "lint":
            _require_lint(check, history)
        elif check["level"] != "pass" or check["findings"]:
            raise CheckFailed(f"db.validate's {check['check']} check did not pass: {_first(check)}")


def _require_lint(check: dict[str, Any], history: History) -> None:
    """One acknowledged finding per index revision: lint read every revision's SQL."""
    findings: list[dict[str, Any]] = check["findings"]
    wanted = history.expected.indexes
    acknowledged = [f for f in findings if _acknowledges_index(f)]
    if check["level"] not in ("pass", "warn") or len(acknowledged) != len(findings):
        raise CheckFailed(f"db.validate's lint check found a problem: {_first(check)}")
    if len(acknowledged) != wanted:
        raise CheckFailed(
            f"db.validate's lint acknowledged {len(acknowledged)} index findings, expected "
            f"{wanted} (one per index revision): it did not lint every revision"
        )


def _acknowledges_index(finding: dict[str, Any]) -> bool:
    message = str(finding["message"])
    return (
        finding["level"] == "warn" and message.startswith(ACKNOWLEDGED) and ALLOWED_RULE in message
    )


def _first(check: dict[str, Any]) -> str:
    findings = check.get("findings") or []
    if findings:
        return str(findings[0].get("message"))
    return str(check.get("error") or check.get("skipped") or check.get("level"))


def require_all_passed(junit: Path, tests: tuple[str, ...]) -> None:
    """pytest's JUnit XML lists exactly `tests`, each passed (no failure, error or skip)."""
    from xml.etree import ElementTree

    if not junit.is_file():
        raise CheckFailed(f"pytest wrote no JUnit report at {junit}")
    # The file was written by the pytest run just timed, on this machine.
    root = ElementTree.parse(junit).getroot()  # noqa: S314
    outcomes: dict[str, str] = {}
    for case in root.iter("testcase"):
        problems = [c for c in case if c.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name", "?")] = _outcome(problems)
    if tuple(sorted(outcomes)) != tuple(sorted(tests)):
        raise CheckFailed(f"pytest ran {sorted(outcomes)}, expected {sorted(tests)}")
    bad = {name: outcome for name, outcome in outcomes.items() if outcome != "passed"}
    if bad:
        raise CheckFailed(f"pytest-alembic did not pass: {bad}")


def _outcome(problems: list[Any]) -> str:
    """passed, or the problem with the last lines pytest's report says about it."""
    if not problems:
        return "passed"
    problem = problems[0]
    said = [line[1:].strip() for line in (problem.text or "").splitlines() if line[:2] == "E "]
    said = [line for line in said if line and not line.startswith("#")]
    detail = " / ".join(said[-2:]) or " ".join(str(problem.get("message", "")).split())
    return f"{problem.tag}: {detail[:400]}"
