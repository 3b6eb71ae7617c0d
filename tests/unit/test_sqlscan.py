"""A revision's SQL read through Postgres' parse tree: what regular expressions over the
text got wrong, and statements the parser rejects, which no longer stop the reading."""

from __future__ import annotations

import pytest

from dbtasks.sqltext import Statement, split_lenient, split_sql
from dbtasks.validate.sqlscan import Name, action, scan

VERSION = Name("alembic_version", "app")


# --- names as Postgres reads them ------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        # comments nest in SQL: the head is ALTER TABLE, not ALTER c
        ("ALTER /* a /* nested */ comment */ TABLE t ADD c int", [Name("t")]),
        ('ALTER TABLE U&"d\\0061t" ADD c int', [Name("dat")]),  # a Unicode-escaped name
        ('DROP TABLE IF EXISTS "my table", "app.notes", app."x.y" CASCADE', [
            Name("my table"), Name("app.notes"), Name("x.y", "app"),
        ]),
        ('TRUNCATE "Odd"."Name" *, ONLY b', [Name("Name", "Odd"), Name("b")]),
        ("CREATE TABLE db.s.t (a int)", [Name("t", "s")]),  # catalog.schema.table
        ("CREATE TABLE copy AS SELECT * FROM notes", [Name("copy")]),
        ("WITH gone AS (SELECT 1) DELETE FROM app.notes", [Name("notes", "app")]),
        ("ALTER TABLE t RENAME CONSTRAINT a TO b", [Name("t")]),
        # what only looks like a table statement
        ("ALTER INDEX ix RENAME TO iy", []),
        ("ALTER VIEW v RENAME COLUMN a TO b", []),
        ("CREATE MATERIALIZED VIEW mv AS SELECT 1", []),
        ("CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $b$ DROP TABLE notes $b$", []),
        ("DO $x$ BEGIN EXECUTE 'TRUNCATE notes'; END $x$", []),
        ("SELEC 1", []),
    ],
)  # fmt: skip
def test_the_parse_tree_names_the_tables(sql: str, tables: list[Name]) -> None:
    assert list(action(sql).tables) == tables


def test_search_path_values_are_read_as_postgres_reads_them() -> None:
    assert action("SET search_path TO E'app', public").search_path == ("app", "public")
    assert action("SET SCHEMA 'app'").search_path == ("app",)  # SET SCHEMA is search_path
    assert action("SET search_path TO DEFAULT") == action("RESET search_path")
    assert action("RESET search_path").verb == "set search_path"
    assert action("RESET search_path").search_path == ()
    assert action("SET lock_timeout = '5s'").verb == "set"


def test_start_transaction_and_end_are_the_transaction_too() -> None:
    script = scan("START TRANSACTION;\nCREATE TABLE t (a int);\nEND;\n", VERSION)
    assert [(s.runner, s.transaction) for s in script.statements] == [
        (True, True),
        (False, False),
        (True, True),
    ]


def test_the_version_table_written_behind_a_with_clause_is_the_runners() -> None:
    sql = "WITH v AS (SELECT 'b2') UPDATE app.alembic_version SET version_num = 'b2';"
    assert [s.runner for s in scan(sql, VERSION).statements] == [True]


def test_long_names_are_cut_where_postgres_cuts_them() -> None:
    long = "ix_" + "x" * 70
    sql = f"CREATE TABLE t (a int);\nCREATE INDEX {long} ON t (a);\nDROP INDEX {long[:63]};\n"
    assert [s.on_new for s in scan(sql, VERSION).statements] == [True, True, True]


def test_a_table_moved_to_another_schema_stays_new_there() -> None:
    sql = "CREATE TABLE t (a int);\nALTER TABLE t SET SCHEMA s;\nALTER TABLE s.t ADD b int;\n"
    assert [s.on_new for s in scan(sql, VERSION).statements] == [True, True, True]


def test_a_dollar_quoted_body_is_not_read_as_statements() -> None:
    sql = (
        "CREATE TABLE t (a int);\n"
        "DO $$ BEGIN CREATE TABLE notes (a int); END $$;\n"
        "ALTER TABLE notes ADD b int;\n"
    )
    assert [s.on_new for s in scan(sql, VERSION).statements] == [True, False, False]


# --- statements the parser rejects -----------------------------------------------------------

BROKEN = """CREATE TABLE t (a int);
\\connect other;
SELEC 1;
ALTER TABLE t ADD b int NOT NULL; ALTER TABLE t ADD COLUMN;
ALTER TABLE notes DROP COLUMN c;
"""


def test_a_rejected_statement_stands_alone_and_the_rest_is_read() -> None:
    script = scan(BROKEN, VERSION)
    got = [(s.sql, s.first_line, s.error is not None, s.on_new) for s in script.statements]
    assert got == [
        ("CREATE TABLE t (a int)", 1, False, True),
        ("\\connect other", 2, True, False),
        ("SELEC 1", 3, True, False),
        ("ALTER TABLE t ADD b int NOT NULL", 4, False, True),
        ("ALTER TABLE t ADD COLUMN", 4, True, False),
        ("ALTER TABLE notes DROP COLUMN c", 5, False, False),
    ]
    assert script.statements[2].error == 'syntax error at or near "SELEC"'


def test_squawk_never_sees_a_rejected_statement() -> None:
    text = scan(BROKEN, VERSION).for_squawk()
    assert text.count("\n") == BROKEN.count("\n")
    assert "connect" not in text and "SELEC" not in text and "ADD COLUMN;" not in text
    assert text.index("ALTER TABLE notes DROP COLUMN c") == BROKEN.index("ALTER TABLE notes")


def test_lenient_splitting_is_split_sql_on_text_that_parses() -> None:
    sql = (
        "-- first\nCREATE TABLE t (a int); /* between */ SELECT 'a;b';\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n"
    )
    assert split_lenient(sql) == split_sql(sql)
    assert split_lenient("") == split_lenient(" ;\n-- only a comment\n") == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1; SELEC 2", [("SELECT 1", None), ("SELEC 2", 'at or near "SELEC"')]),
        ("SELECT 1;\nCREATE INDEX ix", [("SELECT 1", None), ("CREATE INDEX ix", "end of input")]),
        ("SELEC /* ; */ 1; SELECT 2", [("SELEC /* ; */ 1", "SELEC"), ("SELECT 2", None)]),
        # an unterminated quote takes the rest of the text with it
        ("SELECT 1; SELECT 'x; SELECT 2;", [("SELECT 1", None), ("SELECT 'x; SELECT 2;", "quot")]),
        # an error inside a BEGIN ATOMIC body: the body's semicolons cut it
        (
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELEC 1; END; SELECT 2;",
            [
                ("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELEC 1", "SELEC"),
                ("END", None),
                ("SELECT 2", None),
            ],
        ),
    ],
)
def test_lenient_splitting_cuts_a_rejected_statement_at_its_semicolons(
    sql: str, expected: list[tuple[str, str | None]]
) -> None:
    found = split_lenient(sql)
    assert [s.sql for s in found] == [text for text, _ in expected]
    for statement, (_, error) in zip(found, expected, strict=True):
        assert (statement.error is None) == (error is None)
        assert error is None or error in str(statement.error)


def test_lenient_splitting_keeps_lines() -> None:
    assert split_lenient("SELECT 1;\n\n-- why\nSELEC 2;\nSELECT 3;") == [
        Statement("SELECT 1", 1),
        Statement("SELEC 2", 4, 'syntax error at or near "SELEC"'),
        Statement("SELECT 3", 5),
    ]
