"""The validate case at a tiny N: it runs end to end, and a drifted model fails it.

A model column the migrations never add is a problem both sides must report: the case
then says CHECK FAILED and times nothing, whichever side runs first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import cli, proc
from bench.cases import validate
from bench.checks import CheckFailed
from bench.context import Bench
from bench.harness import run_once
from bench.history import History, kind
from bench.models import render_models, require_models_match
from bench.outcomes import VALIDATE_CHECKS, require_all_passed, require_validated
from bench.server import Server, find_psql
from dbtasks.settings import Settings
from dbtasks.stack.binaries import find_binaries

N = 10
TINY = ["--revisions", str(N), "--reps", "1", "--warmups", "0", "--bytecode", "off"]
NAME_COLUMN = '    sa.Column("name", sa.String(100), nullable=False),\n'

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(cluster: Settings) -> Server:
    """The test suite's cluster (with its hostile password) as the bench's server."""
    binaries = find_binaries(cluster.pg_bindir)
    return Server(cluster, binaries, find_psql(binaries))


@pytest.fixture
def drifted_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """The models gain a column on the first table that no revision adds."""

    def with_extra_column(history: History) -> str:
        source = render_models(history)
        extra = NAME_COLUMN + '    sa.Column("extra", sa.Integer(), nullable=True),\n'
        assert NAME_COLUMN in source
        return source.replace(NAME_COLUMN, extra, 1)

    monkeypatch.setattr(validate, "render_models", with_extra_column)


def _run(tmp_path: Path, server: Server) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "results.json"
    code = cli.main([*TINY, "--only", "validate", "--output", str(out)], server)
    (result,) = json.loads(out.read_text())["results"]
    return code, result


def test_validate_times_both_sides_after_checking_them(tmp_path: Path, server: Server) -> None:
    code, result = _run(tmp_path, server)
    assert code == 0 and result["failure"] is None
    assert result["revisions"] == N
    sides = result["sides"]
    assert set(sides) == {"dbtasks", "pytest-alembic"}
    assert all(len(side["samples_s"]) == 1 for side in sides.values())
    (ratio,) = result["ratios"]
    assert ratio["target"] == 1.0 and ratio["verdict"] in ("PASS", "MISS")


def test_a_model_out_of_step_fails_the_case_instead_of_timing_it(
    tmp_path: Path, server: Server, drifted_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = _run(tmp_path, server)
    assert code == 1
    printed = capsys.readouterr().out
    assert "CHECK FAILED" in printed and "validation failed: drift" in printed
    assert result["failure"].startswith("dbtasks: ")
    assert all(not side["samples_s"] for side in result["sides"].values())


def test_pytest_alembic_reports_the_same_drift(
    tmp_path: Path, server: Server, drifted_models: None
) -> None:
    """pytest-alembic's side on its own: its model test fails, its round trip passes."""
    mode = proc.Mode("off")
    case = validate.validate(Bench(server, tmp_path, mode, proc.base_env()), N)
    case.setup()
    (theirs,) = [s for s in case.sides if s.name == "pytest-alembic"]
    with pytest.raises(CheckFailed) as failed:
        run_once(theirs)
    message = str(failed.value)
    assert "test_model_definitions_match_ddl" in message
    assert "test_up_down_consistency" not in message
    assert "op.add_column('t00001', sa.Column('extra'" in message


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 9, 12, 100])
def test_the_models_hold_what_the_history_builds_at_head(count: int) -> None:
    history = History(count, ())
    require_models_match(render_models(history), history)
    longer = count + 2 if kind(count + 1) == "data" else count + 1  # data changes no schema
    with pytest.raises(CheckFailed, match="generated models hold"):
        require_models_match(render_models(History(longer, ())), history)


def _report(history: History, **changed: dict[str, Any]) -> str:
    """A passing `db.validate --json` report for `history`, with some checks replaced."""
    ack = "acknowledged: small (require-concurrent-index-creation [SQL line 14: ...])"
    lint = [{"level": "warn", "message": ack}] * history.expected.indexes
    checks: list[dict[str, Any]] = [
        {"check": name, "level": "warn" if name == "lint" else "pass", "findings": []}
        for name in VALIDATE_CHECKS
    ]
    checks[VALIDATE_CHECKS.index("lint")]["findings"] = lint
    checks = [changed.get(c["check"], c) for c in checks]
    return json.dumps({"ok": True, "checks": checks})


def test_a_validate_report_passes_only_with_every_check_clean() -> None:
    history = History(12, ())
    require_validated(_report(history), history)
    skipped = {"check": "drift", "level": "skipped", "findings": []}
    bad_lint = {"check": "lint", "level": "fail", "findings": [{"level": "fail", "message": "x"}]}
    short_lint = {"check": "lint", "level": "pass", "findings": []}
    for changed in ({"drift": skipped}, {"lint": bad_lint}, {"lint": short_lint}):
        with pytest.raises(CheckFailed):
            require_validated(_report(history, **changed), history)
    with pytest.raises(CheckFailed, match="no JSON"):
        require_validated("validation failed", history)


def test_a_junit_report_passes_only_with_both_tests_passed(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    case = '<testcase classname="m" name="{}">{}</testcase>'
    tests = ("test_a", "test_b")
    junit.write_text(
        f"<testsuite>{case.format('test_a', '')}{case.format('test_b', '')}</testsuite>"
    )
    require_all_passed(junit, tests)
    with pytest.raises(CheckFailed, match="ran"):
        require_all_passed(junit, ("test_a", "test_b", "test_c"))
    skipped = case.format("test_b", '<skipped message="no db"/>')
    junit.write_text(f"<testsuite>{case.format('test_a', '')}{skipped}</testsuite>")
    with pytest.raises(CheckFailed, match="skipped: no db"):
        require_all_passed(junit, tests)
