"""db.plan's pure parts: downgrade shapes, statement kinds, lock modes, grading, reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.errors import ConfigError
from dbtasks.plan import grade, locks, report
from dbtasks.plan.downgrade import shape
from dbtasks.plan.model import Downgrade, Fact, Lock, Loss, Plan, RevisionPlan, Risk, Size, Traced
from dbtasks.plan.statements import classify
from dbtasks.tasks.db_plan import risk_named


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("def downgrade():\n    pass\n", "empty"),
        ('def downgrade():\n    """Nothing."""\n    ...\n', "empty"),
        ("def downgrade():\n    raise NotImplementedError\n", "raising"),
        ("def downgrade():\n    op.drop_table('t')\n", "present"),
        ("def upgrade():\n    pass\n", "missing"),
    ],
)
def test_downgrade_shapes(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "rev.py"
    path.write_text(body)
    assert shape(str(path)) == expected


@pytest.mark.parametrize(
    ("sql", "ignored", "reads"),
    [
        ("select pg_catalog.version()", True, False),
        ("SELECT relname FROM pg_catalog.pg_class WHERE relname = 'x'", True, False),
        ("UPDATE app.alembic_version SET version_num='b' WHERE version_num = 'a'", True, False),
        ("SET search_path TO app", True, False),
        ("SELECT count(*) FROM notes", False, True),
        ("ALTER TABLE notes ADD COLUMN x int", False, False),
    ],
)
def test_which_statements_are_the_revisions(sql: str, ignored: bool, reads: bool) -> None:
    kind = classify(sql, "alembic_version")
    assert (kind.ignored, kind.reads) == (ignored, reads)


@pytest.mark.parametrize(
    ("sql", "mode"),
    [
        ("CREATE INDEX CONCURRENTLY ix ON t (n)", "ShareUpdateExclusiveLock"),
        ("CREATE INDEX ix ON t (n)", "ShareLock"),
        ("ALTER TABLE t VALIDATE CONSTRAINT fk_t", "ShareUpdateExclusiveLock"),
        ("ALTER TABLE t ADD COLUMN m int", "AccessExclusiveLock"),
        ("SET lock_timeout = '2s'", None),
    ],
)
def test_the_lock_of_a_statement_outside_a_transaction(sql: str, mode: str | None) -> None:
    assert locks.inferred(classify(sql, "alembic_version").node) == mode


def test_a_setting_outside_a_transaction_is_not_a_hint() -> None:
    from dbtasks.plan.data_rules import outside_transaction
    from dbtasks.plan.hint_base import Context

    for sql, hinted in (("SET lock_timeout = '2s'", False), ("RESET lock_timeout", False),
                        ("ALTER TABLE t VALIDATE CONSTRAINT fk_t", True)):  # fmt: skip
        s = Traced(sql, 0.0, transactional=False, lock_timeout="0", statement_timeout="0")
        assert bool(outside_transaction(s, Context({}, [s]))) is hinted, sql


def test_lock_modes_say_what_they_block() -> None:
    assert locks.blocks("AccessExclusiveLock") == "reads+writes"
    assert locks.blocks("ShareLock") == "writes"
    assert locks.blocks("ShareUpdateExclusiveLock") == "-"
    assert not locks.dangerous("RowExclusiveLock")


def rewrite(
    timeout: str = "2s", calibration: tuple[float, float, int, int] | None = None
) -> Traced:
    return Traced(
        sql="ALTER TABLE t ALTER COLUMN n TYPE bigint",
        seconds=0.001,
        transactional=True,
        lock_timeout=timeout,
        statement_timeout="0",
        locks=[Lock("app.t", "table", "AccessExclusiveLock")],
        facts=[Fact("rewrite", "app.t"), Fact("type", "app.t", "n: integer → bigint")],
        calibration=calibration,
    )


def graded(statement: Traced, rows: int, pages: int) -> tuple[Plan, RevisionPlan]:
    revision = RevisionPlan("r1", "m", "f.py", statements=[statement])
    found = Plan("url", ("a",), "upgrade", "clone", [revision])
    found.sizes = {"app.t": Size("app.t", rows, pages, pages * 8192)}
    grade.grade(found)
    return found, revision


def test_the_same_rewrite_grades_by_size() -> None:
    _, small = graded(rewrite(), 10, 1)
    _, big = graded(rewrite(), 10_000_000, 100_000)
    assert (small.risk, big.risk) == (Risk.LOW, Risk.HIGH)
    assert big.statements[0].predicted is not None and big.statements[0].predicted > 1


def test_no_lock_timeout_is_at_least_medium() -> None:
    _, revision = graded(rewrite(timeout="0"), 10, 1)
    assert revision.risk is Risk.MEDIUM
    assert "no-lock-timeout" in {h.code for h in revision.hints}


def test_a_calibrated_prediction_scales_the_timed_difference() -> None:
    # 20k rows in 1 MB took 10 ms more than none: the target's 100 MB take 100 times that.
    statement = rewrite(calibration=(0.001, 0.011, 20_000, 1_000_000))
    _, revision = graded(statement, 1_600_000, 100_000_000 // 8192)
    predicted = revision.statements[0].predicted
    assert predicted is not None and 0.95 < predicted < 1.05


def test_markdown_and_findings() -> None:
    found, revision = graded(rewrite(), 10_000_000, 100_000)
    revision.downgrade = Downgrade("present", ran=True, losses=[Loss("app.t", 0, ("n",), 20)])
    text = report.markdown(found)
    assert text.startswith("### 🔴 `db.plan`: upgrade of 1 revision(s), risk **high**")
    assert "| `ALTER TABLE t ALTER COLUMN n TYPE bigint` | ACCESS EXCLUSIVE app.t |" in text
    assert "loses app.t: column(s) n (20 value(s))" in text
    levels = [(f.level.value, f.revision) for f in report.findings(found)]
    assert levels == [("fail", "r1"), ("warn", "r1")]


def test_fail_on_names() -> None:
    assert risk_named("") is None
    assert risk_named("Medium") is Risk.MEDIUM
    with pytest.raises(ConfigError):
        risk_named("severe")
