"""The lint check without squawk: statement targets, the runner's statements, levels,
acknowledgments and the ignore list over canned squawk reports; the CI recipes parse."""

from __future__ import annotations

import json
import stat
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml

from dbtasks.errors import DbTasksError
from dbtasks.validate import Level
from dbtasks.validate.lint import (
    FAILING,
    ON_EXISTING,
    Report,
    Revision,
    _report,
    allowances,
    describe,
    judge,
    rule_keys,
    run_squawk,
)
from dbtasks.validate.sqlscan import Name, action, scan
from tests.support import REPO

VERSION = Name("alembic_version", "app")

# What the runner writes around a revision offline (as `alembic upgrade --sql` does).
SQL = """CREATE SCHEMA IF NOT EXISTS app;

SET search_path TO app;

BEGIN;

CREATE TABLE app.alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade a1 -> b2

CREATE TABLE fresh (id int, body text);

ALTER TABLE app.fresh ADD COLUMN x int NOT NULL;

CREATE INDEX ix_fresh_x ON fresh (x);

ALTER TABLE notes DROP COLUMN body;

CREATE INDEX ix_notes_body ON "Notes" (body);

UPDATE app.alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1';

COMMIT;
"""


def line_of(text: str, sql: str = SQL) -> int:
    """The 1-based line where `text` starts."""
    return sql[: sql.index(text)].count("\n") + 1


def report(rule: str, text: str, sql: str = SQL, **extra: Any) -> Report:
    """A squawk JSON entry pointing at `text`, as squawk writes it (lines from 0)."""
    item = {
        "file": "00000.sql",
        "line": line_of(text, sql) - 1,
        "column": 0,
        "level": "Warning",
        "message": f"{rule} message",
        "help": None,
        "rule_name": rule,
        "column_end": 10,
        "line_end": line_of(text, sql) - 1,
        **extra,
    }
    return _report(json.loads(json.dumps(item)))


def revision(sql: str = SQL, allow: dict[str, str] | None = None) -> Revision:
    return Revision("b2", "alembic/versions/b2.py", scan(sql, VERSION), allow or {})


# --- what a statement acts on ------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ('ALTER TABLE IF EXISTS ONLY "My"."T" ADD x int', [Name("T", "My")]),
        ("alter table App.Notes drop column body", [Name("notes", "app")]),
        ('drop table if exists a, app.b, "C" cascade', [Name("a"), Name("b", "app"), Name("C")]),
        ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix ON ONLY s.t (a)", [Name("t", "s")]),
        ("create index on t (a)", [Name("t")]),
        ("TRUNCATE TABLE ONLY a, b * RESTART IDENTITY CASCADE", [Name("a"), Name("b")]),
        ("REINDEX (VERBOSE) TABLE CONCURRENTLY x.y", [Name("y", "x")]),
        ("CREATE GLOBAL TEMPORARY TABLE tmp (a int)", [Name("tmp")]),
        ('CREATE TABLE "we""ird" (a int)', [Name('we"ird')]),
        ("-- a comment first\nALTER /* here too */ TABLE t ADD c int", [Name("t")]),
        ("DO $$ BEGIN ALTER TABLE t ADD c int; END $$", []),
        ("ALTER TABLE", []),
        ("CREATE INDEX ix", []),
        ("REINDEX DATABASE app", []),
        ("SET statement_timeout = 0", []),
    ],
)
def test_action_names_the_tables_a_statement_acts_on(sql: str, tables: list[Name]) -> None:
    assert list(action(sql).tables) == tables


def test_action_reads_indexes_renames_and_search_path() -> None:
    assert action("DROP INDEX CONCURRENTLY IF EXISTS a.ix, iy").indexes == (
        Name("ix", "a"),
        Name("iy"),
    )
    assert action("REINDEX INDEX ix").indexes == (Name("ix"),)
    assert action("CREATE INDEX ix ON t (a)").new_index == Name("ix")
    assert action("ALTER TABLE t RENAME TO u").renamed == Name("u")
    assert action("ALTER TABLE t RENAME COLUMN a TO b").renamed is None
    assert action("SET search_path TO \"App\", 'b', public").search_path == ("App", "b", "public")
    assert action("SET LOCAL search_path = app").verb == "set search_path"
    assert action("CREATE TABLE IF NOT EXISTS t (a int)").robust


# --- the walk: runner statements, tables the revision creates ------------------------------


def test_scan_marks_the_runner_statements() -> None:
    script = scan(SQL, VERSION)
    runner = [s.sql.split("\n")[0] for s in script.statements if s.runner]
    assert runner == [
        "CREATE SCHEMA IF NOT EXISTS app",
        "SET search_path TO app",
        "BEGIN",
        "CREATE TABLE app.alembic_version (",
        "UPDATE app.alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1'",
        "COMMIT",
    ]


def test_scan_knows_which_statements_act_on_tables_the_revision_created() -> None:
    script = scan(SQL, VERSION)
    on_new = {s.sql: s.on_new for s in script.statements if not s.runner}
    assert on_new == {
        "CREATE TABLE fresh (id int, body text)": True,
        "ALTER TABLE app.fresh ADD COLUMN x int NOT NULL": True,  # app is the search_path
        "CREATE INDEX ix_fresh_x ON fresh (x)": True,
        "ALTER TABLE notes DROP COLUMN body": False,
        'CREATE INDEX ix_notes_body ON "Notes" (body)': False,
    }


def test_quoted_names_keep_their_case_and_other_schemas_are_other_tables() -> None:
    sql = (
        'SET search_path TO app;\nCREATE TABLE "Notes" (a int);\nALTER TABLE notes ADD b int;\n'
        'ALTER TABLE "Notes" ADD c int;\nALTER TABLE public."Notes" ADD d int;\n'
        'ALTER TABLE app."Notes" ADD e int;\n'
    )
    on_new = [s.on_new for s in scan(sql, VERSION).statements if not s.runner]
    assert on_new == [True, False, True, False, True]


def test_if_not_exists_may_find_a_live_table() -> None:
    sql = "CREATE TABLE IF NOT EXISTS t (a int);\nCREATE INDEX ix ON t (a);\n"
    assert [s.on_new for s in scan(sql, VERSION).statements] == [False, False]


def test_renamed_and_indexed_new_tables_stay_new() -> None:
    sql = (
        "CREATE TABLE t (a int);\nCREATE INDEX ix ON t (a);\nDROP INDEX ix;\n"
        "ALTER TABLE t RENAME TO u;\nDROP TABLE u;\nDROP TABLE u, old;\n"
    )
    assert [s.on_new for s in scan(sql, VERSION).statements] == [True] * 5 + [False]


def test_without_a_search_path_the_version_table_is_matched_by_name() -> None:
    sql = "INSERT INTO alembic_version (version_num) VALUES ('a1');\nINSERT INTO other VALUES (1);"
    assert [s.runner for s in scan(sql, VERSION).statements] == [True, False]


def test_squawk_sees_the_revision_line_for_line_with_its_transactions() -> None:
    script = scan(SQL, VERSION)
    text = script.for_squawk()
    assert text.count("\n") == SQL.count("\n")
    assert "alembic_version" not in text and "search_path" not in text
    assert "CREATE SCHEMA" not in text
    assert "BEGIN;" in text and "COMMIT;" in text
    assert text.index("ALTER TABLE notes DROP COLUMN body") == SQL.index(
        "ALTER TABLE notes DROP COLUMN body"
    )


def test_at_finds_the_statement_under_squawks_place() -> None:
    sql = "CREATE TABLE a (x int); ALTER TABLE b DROP x;\n\nDROP TABLE\n  c;\n"
    script = scan(sql, VERSION)
    assert script.at(1, 0).sql == "CREATE TABLE a (x int)"  # type: ignore[union-attr]
    assert script.at(1, 30).sql == "ALTER TABLE b DROP x"  # type: ignore[union-attr]
    assert script.at(4, 2).sql == "DROP TABLE\n  c"  # type: ignore[union-attr]
    assert script.at(2) is None


# --- levels --------------------------------------------------------------------------------


def levels(findings: list[Any]) -> list[tuple[str, str]]:
    return [(f.level.value, f.message.split(" [")[0]) for f in findings]


def test_locking_and_destructive_rules_fail_only_on_existing_tables() -> None:
    reports = [
        report("adding-required-field", "ALTER TABLE app.fresh"),
        report("require-concurrent-index-creation", "CREATE INDEX ix_fresh_x"),
        report("ban-drop-column", "ALTER TABLE notes"),
        report("require-concurrent-index-creation", "CREATE INDEX ix_notes_body"),
        report("prefer-text-field", "CREATE TABLE fresh"),
    ]
    findings = judge(revision(), reports, set())
    assert levels(findings) == [
        ("fail", "ban-drop-column"),
        ("fail", "require-concurrent-index-creation"),
        ("warn", "prefer-text-field"),
    ]
    assert {(f.revision, f.file) for f in findings} == {("b2", "alembic/versions/b2.py")}


def test_a_finding_names_rule_line_statement_message_and_help() -> None:
    found = report("ban-drop-column", "ALTER TABLE notes", help="Do it in two deploys.")
    [finding] = judge(revision(), [found], set())
    line = line_of("ALTER TABLE notes")
    assert finding.message == (
        f"ban-drop-column [SQL line {line}: ALTER TABLE notes DROP COLUMN body] "
        "ban-drop-column message Do it in two deploys."
    )


def test_some_rules_fail_even_on_a_new_table() -> None:
    sql = "BEGIN;\nCREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY ix ON t (a);\nCOMMIT;\n"
    found = report("ban-concurrent-index-creation-in-transaction", "CREATE INDEX", sql)
    assert levels(judge(revision(sql), [found], set())) == [
        ("fail", "ban-concurrent-index-creation-in-transaction")
    ]


def test_findings_on_the_runners_statements_are_dropped() -> None:
    found = report("transaction-nesting", "BEGIN;")
    assert judge(revision(), [found], set()) == []


def test_a_finding_outside_any_statement_warns() -> None:
    found = _report({"rule_name": "require-statement-timeout", "line": 12, "message": "m"})
    assert levels(judge(revision(), [found], set())) == [("warn", "require-statement-timeout")]


def test_the_failing_set_is_squawks_locking_and_destructive_rules() -> None:
    assert {"ban-drop-table", "ban-drop-column", "require-concurrent-index-creation"} <= FAILING
    assert {"adding-required-field", "adding-not-nullable-field", "changing-column-type"} <= (
        ON_EXISTING
    )
    assert {"adding-foreign-key-constraint", "constraint-missing-not-valid"} <= ON_EXISTING
    assert not {"prefer-text-field", "ban-char-field", "prefer-robust-stmts"} & FAILING


# --- the ignore list -----------------------------------------------------------------------


def test_ignored_rules_are_dropped_under_any_of_squawks_names() -> None:
    ignore = rule_keys(["prefer-timestamptz", "require-timeout-settings", "ban-drop-column"])
    reports = [
        report("prefer-timestamp-tz", "CREATE TABLE fresh"),
        report("require-lock-timeout", "ALTER TABLE notes"),
        report("require-statement-timeout", "ALTER TABLE notes"),
        report("ban-drop-column", "ALTER TABLE notes"),
        report("prefer-text-field", "CREATE TABLE fresh"),
    ]
    assert levels(judge(revision(), reports, ignore)) == [("warn", "prefer-text-field")]


# --- acknowledgments -----------------------------------------------------------------------


def test_an_acknowledged_failure_warns_with_its_reason() -> None:
    allow = {"ban-drop-column": "the column was unused since v2"}
    found = report("ban-drop-column", "ALTER TABLE notes")
    [finding] = judge(revision(allow=allow), [found], set())
    assert finding.level is Level.WARN
    assert finding.message.startswith("acknowledged: the column was unused since v2 (")
    assert "ban-drop-column" in finding.message


def test_an_acknowledgment_covers_only_its_rule() -> None:
    allow = {"ban-drop-column": "unused"}
    reports = [
        report("ban-drop-column", "ALTER TABLE notes"),
        report("require-concurrent-index-creation", "CREATE INDEX ix_notes_body"),
    ]
    assert [f.level for f in judge(revision(allow=allow), reports, set())] == [
        Level.WARN,
        Level.FAIL,
    ]


def test_an_acknowledgment_nothing_needs_is_reported() -> None:
    findings = judge(revision(allow={"ban-drop-colum": "typo"}), [], set())
    [(level, message)] = levels(findings)
    assert level == "warn"
    assert (
        message
        == "dbtasks_allow acknowledges ban-drop-colum, which nothing in this revision triggers"
    )


def module(**attrs: Any) -> types.ModuleType:
    found = types.ModuleType("rev")
    found.__dict__.update(attrs)
    return found


def test_allowances_read_a_mapping_or_a_set_from_the_module() -> None:
    assert allowances(module()) == ({}, None)
    assert allowances(None) == ({}, None)
    assert allowances(module(dbtasks_allow={"ban-drop-table": " gone "})) == (
        {"ban-drop-table": "gone"},
        None,
    )
    assert allowances(module(dbtasks_allow={"ban-drop-table"})) == (
        {"ban-drop-table": "listed in dbtasks_allow"},
        None,
    )


@pytest.mark.parametrize("value", ["ban-drop-table", 3, {3: "x"}, [1]])
def test_a_malformed_marker_is_ignored_and_said_so(value: object) -> None:
    allow, problem = allowances(module(dbtasks_allow=value))
    assert allow == {}
    assert problem is not None and "dbtasks_allow is ignored" in problem


def test_a_statement_squawk_cannot_parse_says_it_was_not_checked() -> None:
    text = describe(Report("syntax-error", 1, 0, "expected command"), None)
    assert text.startswith("syntax-error [SQL line 1] expected command")
    assert "not checked" in text


def test_a_statement_postgres_rejects_warns_at_its_line() -> None:
    sql = SQL.replace("COMMIT;", "SELEC 1; ALTER TABLE notes DROP COLUMN title;\nCOMMIT;")
    found = report("ban-drop-column", "ALTER TABLE notes DROP COLUMN title", sql)
    findings = judge(revision(sql), [found], set())
    assert levels(findings) == [("fail", "ban-drop-column"), ("warn", "syntax-error")]
    line = line_of("SELEC 1", sql)
    assert findings[1].message == (
        f'syntax-error [SQL line {line}: SELEC 1] syntax error at or near "SELEC" '
        "(Postgres' parser rejects this statement, so it was not checked)"
    )


def test_a_rejected_statement_is_ignored_or_acknowledged_like_squawks_syntax_errors() -> None:
    sql = "SELEC 1;\n"
    assert judge(revision(sql), [], rule_keys(["syntax-error"])) == []
    [finding] = judge(revision(sql, {"syntax-error": "psql runs this file"}), [], set())
    assert finding.message.startswith("acknowledged: psql runs this file (syntax-error [")


def test_describe_shortens_long_statements() -> None:
    sql = "ALTER TABLE notes ADD COLUMN " + ", ADD COLUMN ".join(f"c{i} int" for i in range(40))
    text = describe(Report("r", 3, 0, "msg"), scan(sql, VERSION).statements[0])
    assert "..." in text and len(text) < 130


# --- squawk's output -----------------------------------------------------------------------


def fake_squawk(tmp_path: Path, body: str) -> str:
    path = tmp_path / "squawk"
    path.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_reports_go_back_to_their_revision(tmp_path: Path) -> None:
    squawk = fake_squawk(
        tmp_path,
        "import json, os\n"
        "files = [a for a in sys.argv if a.endswith('.sql')]\n"
        "print(json.dumps([{'file': f, 'line': 0, 'rule_name': os.path.basename(f)} "
        "for f in files[::-1]]))\nsys.exit(1)",
    )
    reports = run_squawk(squawk, ["SELECT 1;", "SELECT 2;", "SELECT 3;"])
    assert [[r.rule for r in found] for found in reports] == [
        ["00000.sql"],
        ["00001.sql"],
        ["00002.sql"],
    ]
    assert reports[0][0].line == 1


@pytest.mark.parametrize(
    "body", ["print('not json')", "sys.stderr.write('boom\\n'); sys.exit(2)", "print('{}')"]
)
def test_squawk_failing_is_an_error_not_a_clean_bill(tmp_path: Path, body: str) -> None:
    with pytest.raises(DbTasksError, match="squawk failed"):
        run_squawk(fake_squawk(tmp_path, body), ["SELECT 1;"])


def test_the_server_version_reaches_squawk_and_nothing_else_of_the_project(
    tmp_path: Path,
) -> None:
    argv = tmp_path / "argv.json"
    squawk = fake_squawk(
        tmp_path, f"import json\njson.dump(sys.argv, open({str(argv)!r}, 'w'))\nprint('[]')"
    )
    run_squawk(squawk, ["SELECT 1;"], "15")
    args = json.loads(argv.read_text())
    assert args[args.index("--pg-version") + 1] == "15"
    assert "--no-assume-in-transaction" in args
    config = Path(args[args.index("--config") + 1])
    assert config.name == "squawk.toml" and config.parent == Path(args[-1]).parent
    run_squawk(squawk, ["SELECT 1;"], "PostgreSQL 15")  # not a version squawk takes
    assert "--pg-version" not in json.loads(argv.read_text())


def test_no_revisions_run_no_squawk() -> None:
    assert run_squawk("/nonexistent/squawk", []) == []


# --- the CI recipes ------------------------------------------------------------------------


def test_the_workflow_runs_validate_against_a_postgres_service() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "db.yml").read_text())
    [job] = workflow["jobs"].values()
    assert job["services"]["postgres"]["image"].startswith("postgres")
    env = job["env"]
    assert env["DB_BACKEND"] == "external"
    assert env["DB_HOST"] == "127.0.0.1"
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "pip install -e '.[dev]'" in runs
    assert "inv db.validate --json > validate.json" in runs
    uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert uploads and uploads[0]["with"]["path"] == "validate.json"
    assert uploads[0]["if"] == "always()"


def test_the_pre_commit_hook_runs_graph_and_lint_only() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    [hook] = hooks
    assert hook["entry"].split() == ["inv", "db.validate", "--only", "graph", "--only", "lint"]
    assert hook["pass_filenames"] is False
    assert hook["language"] == "system"
