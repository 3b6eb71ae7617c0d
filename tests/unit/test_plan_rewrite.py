"""db.plan --fix's safe forms without a database: each written back from the statement's
parse tree, and what has none."""

from __future__ import annotations

import pytest

from dbtasks.plan.model import Fact, Hint, Lock, Traced
from dbtasks.plan.rewrite import Safe, Step, safe_form, undo_key

T = "app.t"


def traced(sql: str, facts: list[Fact], hints: tuple[str, ...], line: int | None = None) -> Traced:
    return Traced(
        sql=sql,
        seconds=0.0,
        transactional=True,
        lock_timeout="0",
        statement_timeout="0",
        locks=[Lock(fact.table, "table", "ShareLock") for fact in facts],
        facts=facts,
        line=line,
        hints=[Hint(code, "", "", "") for code in hints],
    )


INDEX = ("CREATE INDEX ix_t_n ON t (n)", [Fact("index", T, "app.ix_t_n")])
FK = (
    "ALTER TABLE t ADD CONSTRAINT fk_t FOREIGN KEY(pid) REFERENCES t (id) ON DELETE CASCADE",
    [Fact("constraint", T, "fk_t FOREIGN KEY (pid) REFERENCES t(id)", ("f",))],
)
CHECK = (
    "ALTER TABLE app.t ADD CONSTRAINT ck_t CHECK (n > 0)",
    [Fact("constraint", T, "ck_t CHECK ((n > 0))", ("c", "partitioned"))],
)
COLUMN = ("ALTER TABLE t ADD COLUMN m TEXT", [Fact("column", T, "m text")])


def form(case: tuple[str, list[Fact]], *hints: str) -> Safe | None:
    return safe_form(traced(case[0], case[1], hints or ("no-lock-timeout",)))


def code(steps: tuple[Step, ...]) -> list[tuple[str, bool]]:
    return [(step.code, step.autocommit) for step in steps]


def test_an_index_is_built_concurrently_after_its_leftover_is_dropped() -> None:
    found = form(INDEX, "index-not-concurrent", "no-lock-timeout")
    assert found is not None and found.kind == "index" and found.undo == ("index", "ix_t_n")
    drop = 'op.drop_index("ix_t_n", table_name="t", postgresql_concurrently=True, if_exists=True)'
    create = 'op.create_index("ix_t_n", "t", ["n"], postgresql_concurrently=True)'
    assert code(found.upgrade) == [(drop, True), (create, True)]
    assert code(found.downgrade) == [(drop, True)]


def test_an_index_keeps_everything_that_made_it_what_it_is() -> None:
    sql = 'CREATE UNIQUE INDEX "Ix" ON app.t USING gin (lower(s) DESC, n) INCLUDE (s) WHERE n > 0'
    found = form((sql, [Fact("index", T, "app.Ix")]), "index-not-concurrent")
    assert found is not None and found.uses_sa
    assert found.upgrade[1].code == (
        'op.create_index("Ix", "t", [sa.text("(lower(s)) DESC"), "n"], schema="app", '
        'unique=True, postgresql_using="gin", postgresql_include=["s"], '
        'postgresql_where=sa.text("n > 0"), postgresql_concurrently=True)'
    )


def test_a_constraint_is_added_not_valid_then_validated() -> None:
    found = form(FK, "validated-constraint", "no-lock-timeout")
    assert found is not None and found.undo == ("constraint", "t", "fk_t")
    assert code(found.upgrade) == [
        (
            'op.execute("ALTER TABLE t ADD CONSTRAINT fk_t FOREIGN KEY (pid) REFERENCES t (id) '
            'ON DELETE CASCADE NOT VALID")',
            False,
        ),
        ("op.execute(\"SET lock_timeout = '2s'\")", True),
        ('op.execute("ALTER TABLE t VALIDATE CONSTRAINT fk_t")', True),
        ('op.execute("RESET lock_timeout")', True),
    ]
    assert code(found.downgrade) == [
        ('op.execute("ALTER TABLE t DROP CONSTRAINT IF EXISTS fk_t")', False)
    ]


def test_an_unnamed_constraint_gets_the_name_postgres_gave_it() -> None:
    sql = "ALTER TABLE t ADD FOREIGN KEY (pid) REFERENCES t (id)"
    facts = [Fact("constraint", T, "t_pid_fkey FOREIGN KEY (pid) REFERENCES t(id)", ("f",))]
    found = form((sql, facts), "validated-constraint")
    assert found is not None and found.undo == ("constraint", "t", "t_pid_fkey")
    assert "ADD CONSTRAINT t_pid_fkey FOREIGN KEY" in found.upgrade[0].code


def test_a_check_on_a_partitioned_table_can_still_be_not_valid() -> None:
    found = form(CHECK, "validated-constraint")
    assert found is not None and "CHECK (n > 0) NOT VALID" in found.upgrade[0].code


def test_a_column_is_added_as_it_was_under_a_lock_timeout() -> None:
    found = form(COLUMN)
    assert found is not None and found.undo == ("column", "t", "m")
    assert code(found.upgrade) == [('op.execute("ALTER TABLE t ADD COLUMN m text")', False)]
    assert code(found.downgrade) == [('op.execute("ALTER TABLE t DROP COLUMN IF EXISTS m")', False)]


@pytest.mark.parametrize(
    ("case", "hints"),
    [
        (INDEX, ("index-not-concurrent", "rewrite-under-lock")),  # a hint it does not answer
        (COLUMN, ("no-lock-timeout", "json-column")),
        (COLUMN, ("no-lock-timeout", "not-null-column-without-default")),
        (
            ("CREATE INDEX ix_p ON p (n)", [Fact("index", "app.p", "app.ix_p", ("partitioned",))]),
            ("index-not-concurrent",),
        ),
        (
            (FK[0], [Fact("constraint", T, FK[1][0].detail, ("f", "partitioned"))]),
            ("validated-constraint",),
        ),
        (("CREATE INDEX ON t (n)", INDEX[1]), ("index-not-concurrent",)),  # unnamed
        (("CREATE INDEX ix_t_n ON t (n) WITH (fillfactor = 70)", INDEX[1]), ("no-lock-timeout",)),
        (("ALTER TABLE t ADD COLUMN m text DEFAULT ' :x'", COLUMN[1]), ("no-lock-timeout",)),
        (("ALTER TABLE t ADD COLUMN a int, ADD COLUMN b int", COLUMN[1]), ("no-lock-timeout",)),
        (("ALTER TABLE t DROP COLUMN s", [Fact("drop column", T, "s")]), ("no-lock-timeout",)),
        (("ALTER TABLE t ADD COLUMN m serial", [*COLUMN[1], Fact("rewrite", T)]), ()),
    ],
)
def test_what_has_no_mechanical_safe_form(case: tuple[str, list[Fact]], hints: tuple[str]) -> None:
    assert safe_form(traced(case[0], case[1], hints)) is None


def test_a_statement_outside_a_transaction_is_left_alone() -> None:
    s = traced(*INDEX, ("outside-transaction",))
    s.transactional = False
    assert safe_form(s) is None


def test_what_a_downgrade_statement_undoes() -> None:
    assert undo_key("DROP INDEX app.ix_t_n") == ("index", "ix_t_n")
    assert undo_key("ALTER TABLE t DROP CONSTRAINT fk_t") == ("constraint", "t", "fk_t")
    assert undo_key("ALTER TABLE app.t DROP COLUMN m") == ("column", "t", "m")
    assert undo_key("DROP TABLE t") is None
    assert undo_key("ALTER TABLE t DROP COLUMN a, DROP COLUMN b") is None
