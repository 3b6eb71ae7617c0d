"""db.plan --fix without a database: which top-level statements of upgrade() move, what
Alembic makes of their safe forms, and the new revision's body."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from dbtasks.plan import fix_revision
from dbtasks.plan.fix import Proposal, propose
from dbtasks.plan.model import Downgrade, Fact, Lock, Plan, RevisionPlan, Traced
from dbtasks.plan.rewrite import Step
from tests.unit.test_plan_rewrite import FK, INDEX, T, form, traced


def offline_sql(steps: tuple[Step, ...]) -> str:
    """The SQL Alembic emits for the steps, offline (autocommit blocks included)."""
    import sqlalchemy as sa
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    out = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": out}
    )
    op = Operations(context)
    with context.begin_transaction():
        code = textwrap.dedent(fix_revision.body(list(steps)))
        exec(code, {"op": op, "sa": sa})  # noqa: S102 - the code the new revision holds
    return " ".join(out.getvalue().split())


def test_alembic_writes_the_safe_forms_as_intended() -> None:
    sql = "CREATE UNIQUE INDEX ix_t ON app.t (lower(s), n) WHERE n > 0"
    index = form((sql, INDEX[1]), "index-not-concurrent")
    assert index is not None
    emitted = offline_sql(index.upgrade)
    assert "DROP INDEX CONCURRENTLY IF EXISTS app.ix_t;" in emitted
    assert "CREATE UNIQUE INDEX CONCURRENTLY ix_t ON app.t ((lower(s)), n) WHERE n > 0;" in emitted
    constraint = form(FK, "validated-constraint")
    assert constraint is not None
    emitted = offline_sql(constraint.upgrade)
    assert emitted.index("SET LOCAL lock_timeout = '2s';") < emitted.index("NOT VALID;")
    assert emitted.index("NOT VALID;") < emitted.index("VALIDATE CONSTRAINT fk_t;")


def test_the_body_opens_each_transaction_with_a_lock_timeout() -> None:
    steps = [Step("a()"), Step("b()", True), Step("c()"), Step("d()")]
    assert fix_revision.body(steps) == textwrap.indent(
        textwrap.dedent(
            """\
            op.execute("SET LOCAL lock_timeout = '2s'")
            a()
            with op.get_context().autocommit_block():
                b()
            op.execute("SET LOCAL lock_timeout = '2s'")
            c()
            d()"""
        ),
        "    ",
    )
    assert fix_revision.body([]) == "    pass"


@pytest.mark.parametrize("text", ['op.f("a")', 'a """ b', "x\\n", 'end"', '""""'])
def test_a_line_in_the_docstring_reads_back(text: str) -> None:
    import ast

    assert ast.literal_eval(f'"""{fix_revision.in_docstring(text)}\n"""') == text + "\n"


# -- which statements move ---------------------------------------------------------------

REVISION = '''"""r1"""
from alembic import op


def upgrade():
    op.create_index("ix_t_n", "t", ["n"])
    op.execute(
        "ALTER TABLE t ADD CONSTRAINT fk_t ..."
    )
    op.add_column("u", sa.Column("m", sa.Text))
    op.rename_table("v", "w")
    if True:
        op.create_index("ix_u_n", "u", ["n"])


def downgrade():
    op.drop_column("u", "m")
    op.drop_constraint("fk_t", "t")
    op.drop_index("ix_t_n", "t"); op.drop_table("x")
'''


def fk_on(table: str) -> tuple[str, list[Fact]]:
    return FK[0].replace("ALTER TABLE t", f"ALTER TABLE {table}"), [
        Fact("constraint", f"app.{table}", FK[1][0].detail, ("f",))
    ]


def revision(path: Path, statements: list[Traced], down: list[Traced] | None) -> RevisionPlan:
    path.write_text(REVISION)
    ran = Downgrade("present", ran=down is not None, statements=down or [])
    return RevisionPlan("r1", "r1", "versions/r1.py", statements, downgrade=ran)


def planned(tmp_path: Path, statements: list[Traced], down: list[Traced] | None) -> Proposal:
    path = tmp_path / "r1.py"
    found = Plan("url", ("r0",), "upgrade", "clone", [revision(path, statements, down)])
    return propose(found, {"r1": str(path)})


COLUMN_U = ("ALTER TABLE u ADD COLUMN m text", [Fact("column", "app.u", "m text")])
UNDOES = [
    traced("ALTER TABLE u DROP COLUMN m", [], (), 17),
    traced("ALTER TABLE t DROP CONSTRAINT fk_t", [], (), 18),
    traced("DROP INDEX ix_t_n", [], (), 19),
    traced("DROP TABLE x", [], (), 19),
]


def moved(found: Proposal) -> list[int]:
    return [unit.lines.first for unit in found.moved]


def test_top_level_statements_move_with_their_undoing(tmp_path: Path) -> None:
    statements = [
        traced(*INDEX, ("index-not-concurrent",), 6),
        traced(*fk_on("t"), ("validated-constraint",), 8),  # a call over three lines
        traced(*COLUMN_U, ("no-lock-timeout",), 10),
    ]
    found = planned(tmp_path, statements, UNDOES[:2])
    assert moved(found) == [6, 7, 10]
    assert [(x.function, x.first, x.last) for x in found.removals] == [
        ("upgrade", 6, 6),
        ("upgrade", 7, 9),
        ("upgrade", 10, 10),
        ("downgrade", 17, 17),
        ("downgrade", 18, 18),
    ]
    assert found.removals[1].describe() == "versions/r1.py lines 7-9 (upgrade()): op.execute("
    assert found.kept == [] and found.notes == []


def test_a_downgrade_line_that_does_more_keeps_what_it_undoes(tmp_path: Path) -> None:
    found = planned(tmp_path, [traced(*INDEX, ("index-not-concurrent",), 6)], UNDOES)
    assert found.moved == []
    (kept,) = found.kept
    assert kept.startswith("versions/r1.py line 6 (upgrade()): ")
    assert kept.endswith(
        "[index-not-concurrent]: what undoes it in versions/r1.py's downgrade() does more"
    )


def test_a_later_statement_on_the_same_table_keeps_it_and_what_it_held_up(tmp_path: Path) -> None:
    """The rename stops u's foreign key (to t), which now stays after t's index: so the
    index stays too."""
    fk = traced(*fk_on("u"), ("validated-constraint",), 8)
    fk.locks.append(Lock(T, "table", "ShareRowExclusiveLock"))
    rename = traced("ALTER TABLE v RENAME TO w", [Fact("rename", "app.v", "v → w")], ("rename",))
    rename.locks.append(Lock("app.u", "table", "AccessExclusiveLock"))
    rename.line = 11
    statements = [traced(*INDEX, ("index-not-concurrent",), 6), fk, rename]
    found = planned(tmp_path, statements, [])
    assert found.moved == []
    assert [k.split(": ", 2)[-1] for k in found.kept] == [
        "versions/r1.py lines 7-9 (upgrade()): op.execute( works on app.t after it",
        'versions/r1.py line 11 (upgrade()): op.rename_table("v", "w") works on app.u after it',
        "no safe form that can be written for it",
    ]


def test_a_statement_inside_a_block_moves_with_the_whole_block_or_not_at_all(
    tmp_path: Path,
) -> None:
    made = [Fact("index", "app.u", "app.ix_u_n")]
    nested = traced("CREATE INDEX ix_u_n ON u (n)", made, ("index-not-concurrent",), 13)
    found = planned(tmp_path, [nested], [])
    assert moved(found) == [12] and found.removals[0].last == 13


def test_a_statement_from_no_line_of_upgrade_stays_and_holds_back_what_precedes_it(
    tmp_path: Path,
) -> None:
    helper = traced("ALTER TABLE t ALTER COLUMN n TYPE bigint", [Fact("type", T, "n")], ("x",))
    found = planned(tmp_path, [traced(*INDEX, ("index-not-concurrent",), 6), helper], [])
    assert found.moved == []
    assert found.kept == [
        "versions/r1.py [x]: not at the top level of upgrade()",
        'versions/r1.py line 6 (upgrade()): op.create_index("ix_t_n", "t", ["n"]) '
        "[index-not-concurrent]: versions/r1.py [x] works on app.t after it",
    ]


def test_an_untraced_downgrade_is_a_note(tmp_path: Path) -> None:
    found = planned(tmp_path, [traced(*INDEX, ("index-not-concurrent",), 6)], None)
    assert moved(found) == [6]
    assert found.notes == [
        "versions/r1.py: its downgrade() was not traced; remove what undoes the moved "
        "statements there too"
    ]


def test_a_failed_revision_moves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r1.py"
    entry = revision(path, [traced(*INDEX, ("index-not-concurrent",), 6)], [])
    entry.error = "boom"
    found = propose(Plan("url", (), "upgrade", "clone", [entry]), {"r1": str(path)})
    assert (
        found.moved == [] and found.blocked is not None and "r1 fails on the clone" in found.blocked
    )
