"""db.plan's tracer on a real Postgres: one fixture revision per hint, each flagged with
its hint on its revision; the same operation on a table the revision made is not.

One plan traces every case (the target stands at the base revision, which made one
table per case); each test reads its revision from it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dbtasks.console import Console
from dbtasks.flows.migrate import Upgrade
from dbtasks.plan.model import Plan, RevisionPlan
from dbtasks.plan.run import Options, plan
from dbtasks.settings import Settings
from dbtasks.workflow import execute, read
from tests.projects import ScratchProject, make_project

pytestmark = pytest.mark.integration

TEMPLATE = '''"""{rev}"""
import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{up}


def downgrade():
{down_body}
'''
TABLE = "id integer PRIMARY KEY, n integer, s text, pid integer"
# case: (the operation on table {t}, the hint it must raise)
CASES = {
    "e1": ('op.create_check_constraint("ck_{t}", "{t}", "n > 0")', "validated-constraint"),
    "e1f": (
        'op.create_foreign_key("fk_{t}", "{t}", "{t}", ["pid"], ["id"])',
        "foreign-key-without-index",
    ),
    "e2": ('op.alter_column("{t}", "n", nullable=False)', "set-not-null"),
    "e3": ('op.add_column("{t}", sa.Column("j", sa.JSON))', "json-column"),
    "e4": (
        'op.add_column("{t}", sa.Column("m", sa.Integer))\n    op.execute("UPDATE {t} SET m = 1")',
        "work-under-exclusive-lock",
    ),
    "e5": ('op.alter_column("{t}", "n", type_=sa.BigInteger)', "rewrite-type-change"),
    "e6": ('op.create_index("ix_{t}_n", "{t}", ["n"])', "index-not-concurrent"),
    "e7": ('op.create_unique_constraint("uq_{t}", "{t}", ["n"])', "unique-constraint-index"),
    "e8": (
        'op.execute("ALTER TABLE {t} ADD CONSTRAINT ex_{t} EXCLUDE (n WITH =)")',
        "exclusion-constraint",
    ),
    "e9": ('op.add_column("{t}", sa.Column("m", sa.Integer))', "no-lock-timeout"),
    "e11": ('op.execute("ALTER TABLE {t} ADD COLUMN m serial")', "rewrite-under-lock"),
    "nn": (
        'op.add_column("{t}", sa.Column("m", sa.Integer, nullable=False))',
        "not-null-column-without-default",
    ),
    "di": ('op.drop_index("ix_{t}_s", "{t}")', "drop-index-not-concurrent"),
    "rn": ('op.alter_column("{t}", "s", new_column_name="body")', "rename"),
    "dc": ('op.drop_column("{t}", "s")', "drop-column"),
    "dt": ('op.drop_table("{t}")', "drop-table"),
    "w12": (
        'op.alter_column("{t}", "n", nullable=False)\n'
        '    op.alter_column("{t}", "s", nullable=False)',
        "alter-table-repeated",
    ),
    "w13": ("op.execute(\"CREATE TYPE mood_{t} AS ENUM ('a', 'b')\")", "enum-created"),
    "w14": (
        'op.execute("ALTER TABLE {t} ADD CONSTRAINT pk_{t} PRIMARY KEY USING INDEX ux_{t}")',
        "primary-key-sets-not-null",
    ),
    "conc": (
        "with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_{t}_n", "{t}", ["n"], postgresql_concurrently=True)',
        "outside-transaction",
    ),
}
# Nothing to drop, no transaction to show; an enum is always new; a key needs its index.
NEW_CASES = [c for c in CASES if c not in ("dt", "conc", "w13", "w14")]
TIMEOUT = "    op.execute(\"SET LOCAL lock_timeout = '2s'\")\n"


def write(project: ScratchProject, order: int, rev: str, down: str | None, up: str) -> None:
    text = TEMPLATE.format(rev=rev, down=down, up=up, down_body="    pass")
    (project.versions / f"{order:03d}_{rev}.py").write_text(text)


def base_revision() -> str:
    tables = [f"CREATE TABLE t_{case} ({TABLE})" for case in CASES]
    tables.append("CREATE INDEX ix_t_di_s ON t_di (s)")
    # W14: a table whose key is to come from a unique index on a nullable column.
    tables += [
        "ALTER TABLE t_w14 DROP CONSTRAINT t_w14_pkey",
        "CREATE UNIQUE INDEX ux_t_w14 ON t_w14 (n)",
    ]
    return "\n".join(f'    op.execute("{ddl}")' for ddl in tables)


def cases(project: ScratchProject) -> None:
    """b000 makes every table; then, per case, one revision on the old table (with a
    lock_timeout but for e9) and one that makes its own table and does the same."""
    write(project, 0, "b000", None, base_revision())
    down, order = "b000", 1
    for case, (operation, _) in CASES.items():
        timeout = "" if case == "e9" else TIMEOUT
        write(
            project, order, f"old_{case}", down, timeout + "    " + operation.format(t=f"t_{case}")
        )
        down, order = f"old_{case}", order + 1
    for case in NEW_CASES:
        operation = CASES[case][0].format(t=f"n_{case}")
        make = f'    op.execute("CREATE TABLE n_{case} ({TABLE})")\n'
        if case == "di":
            make += f'    op.execute("CREATE INDEX ix_n_{case}_s ON n_{case} (s)")\n'
        write(project, order, f"new_{case}", down, make + "    " + operation)
        down, order = f"new_{case}", order + 1


def planned(settings: Settings, options: Options) -> Plan:
    console = Console(out=io.StringIO(), err=io.StringIO())
    return read(lambda work: plan(work, options), settings, console)


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> Plan:
    project = make_project(tmp_path_factory.mktemp("plan"), cluster)
    cases(project)
    settings = project.settings()
    execute(Upgrade("b000"), settings, Console(out=io.StringIO()))
    return planned(settings, Options(calibrate=False))


def revision(found: Plan, rev: str) -> RevisionPlan:
    return next(r for r in found.revisions if r.id == rev)


def codes(entry: RevisionPlan) -> set[str]:
    return {h.code for h in entry.hints}


@pytest.mark.parametrize("case", list(CASES))
def test_each_hint_is_raised_on_its_revision(traced: Plan, case: str) -> None:
    entry = revision(traced, f"old_{case}")
    assert entry.error is None and entry.skipped is None, (entry.error, entry.skipped)
    assert CASES[case][1] in codes(entry), [(h.code, h.message) for h in entry.hints]
    assert ("no-lock-timeout" in codes(entry)) == (case == "e9")


@pytest.mark.parametrize("case", NEW_CASES)
def test_the_same_operation_on_a_table_the_revision_made_is_not_flagged(
    traced: Plan, case: str
) -> None:
    entry = revision(traced, f"new_{case}")
    assert entry.error is None and entry.statements, entry.error
    assert entry.hints == [], [(h.code, h.message) for h in entry.hints]
    assert all(not s.locks and not s.facts for s in entry.statements)


def test_locks_are_read_per_statement_with_their_mode_and_relation(traced: Plan) -> None:
    (alter,) = [s for s in revision(traced, "old_e5").statements if "ALTER" in s.sql]
    assert alter.strongest is not None
    assert (alter.strongest.relation, alter.strongest.mode) == ("app.t_e5", "AccessExclusiveLock")
    assert {f.kind for f in alter.facts} >= {"rewrite", "type"}
    assert alter.lock_timeout == "2s"
    (index,) = [s for s in revision(traced, "old_e6").statements if "INDEX" in s.sql]
    assert [(lk.relation, lk.mode) for lk in index.locks if lk.kind == "table"] == [
        ("app.t_e6", "ShareLock")
    ]
    assert not any(f.kind == "rewrite" for f in index.facts)


def test_each_statement_has_the_line_of_upgrade_it_came_from(traced: Plan) -> None:
    """TEMPLATE's upgrade() opens at line 12: the lock_timeout, then the operation (in the
    autocommit block's case, on the line inside its `with`)."""
    timeout, index = revision(traced, "old_e6").statements
    assert (timeout.line, index.line) == (12, 13)
    assert [s.line for s in revision(traced, "old_conc").statements] == [12, 14]
    update = revision(traced, "old_e4").statements[-1]
    assert "UPDATE" in update.sql and update.line == 14


def test_a_concurrent_index_is_reported_outside_a_transaction(traced: Plan) -> None:
    (build,) = revision(traced, "old_conc").statements[-1:]
    assert not build.transactional and "CONCURRENTLY" in build.sql
    assert build.strongest is not None and build.strongest.mode == "ShareUpdateExclusiveLock"
    assert "index-not-concurrent" not in codes(revision(traced, "old_conc"))


def test_not_null_through_a_validated_check_skips_the_scan(
    tmp_path: Path, cluster: Settings
) -> None:
    """The set-not-null hint's alternative, applied, plans clean of that hint."""
    project = make_project(tmp_path, cluster)
    write(project, 0, "b000", None, f'    op.execute("CREATE TABLE t ({TABLE})")')
    check = 'op.create_check_constraint("ck_n", "t", "n IS NOT NULL", postgresql_not_valid=True)'
    write(project, 1, "r001", "b000", TIMEOUT + "    " + check)
    validate = 'op.execute("ALTER TABLE t VALIDATE CONSTRAINT ck_n")'
    write(project, 2, "r002", "r001", TIMEOUT + "    " + validate)
    write(project, 3, "r003", "r002", TIMEOUT + '    op.alter_column("t", "n", nullable=False)')
    settings = project.settings()
    execute(Upgrade("b000"), settings, Console(out=io.StringIO()))
    found = planned(settings, Options(calibrate=False, check_downgrades=False))
    assert [codes(r) for r in found.revisions] == [set(), set(), set()]
    assert [r.risk.label for r in found.revisions] == ["none", "none", "none"]
