"""The lint check with the real squawk, on scratch Alembic projects' offline SQL.

No database is needed: every revision here renders offline, as the pre-commit hook runs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dbtasks.adapter.offline import revision_sql
from dbtasks.adapter.workspace import Workspace
from dbtasks.validate import Finding, Level
from dbtasks.validate import lint as lint_module
from dbtasks.validate.lint import find_squawk, lint
from tests.projects import ScratchProject, make_project
from tests.support import make_settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(find_squawk() is None, reason="squawk-cli is not installed"),
]

BASE = """
    op.create_table(
        "notes",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
"""


@pytest.fixture
def scratch_project(tmp_path: Path) -> ScratchProject:
    """A project whose revisions only need to render offline: no cluster is started."""
    return make_project(tmp_path, make_settings(tmp_path))


def write_revision(
    project: ScratchProject, number: int, upgrade: str, module: str = ""
) -> tuple[str, str]:
    """Revision r00N after r00N-1: its id and its file, relative to the project."""
    rev, down = f"r{number:03d}", f"r{number - 1:03d}" if number > 1 else None
    path = project.versions / f"{number:03d}_{rev}.py"
    source = f'''"""step {number}

Revision ID: {rev}
Revises: {down or ""}
Create Date: 2026-01-01 00:00:{number:02d}
"""

import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None
{textwrap.dedent(module)}

def upgrade() -> None:
{textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")}


def downgrade() -> None:
    pass
'''
    path.write_text(source)
    return rev, f"alembic/versions/{path.name}"


def run_lint(project: ScratchProject) -> list[Finding]:
    ws = Workspace.open(project.settings())
    return lint(ws, lambda rev: revision_sql(ws, rev), ws.settings)


def failures(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level is Level.FAIL]


def rules(findings: list[Finding]) -> set[str]:
    """The rule each finding names: its message starts with it."""
    return {f.message.split(" [")[0] for f in findings}


def test_a_dangerous_operation_on_an_existing_table_fails(scratch_project: ScratchProject) -> None:
    write_revision(scratch_project, 1, BASE)
    rev, file = write_revision(
        scratch_project,
        2,
        """
        op.drop_column("notes", "body")
        op.create_index("ix_notes_id", "notes", ["id"])
        op.add_column("notes", sa.Column("title", sa.Text, nullable=False))
        op.alter_column("notes", "id", type_=sa.Integer)
        """,
    )
    failed = failures(run_lint(scratch_project))
    assert {(f.revision, f.file) for f in failed} == {(rev, file)}
    assert rules(failed) == {
        "ban-drop-column",
        "require-concurrent-index-creation",
        "adding-required-field",
        "changing-column-type",
    }
    drop = next(f for f in failed if f.message.startswith("ban-drop-column"))
    assert "ALTER TABLE notes DROP COLUMN body" in drop.message
    assert "SQL line " in drop.message


def test_a_foreign_key_without_not_valid_fails_and_with_it_passes(
    scratch_project: ScratchProject,
) -> None:
    tags = 'op.create_table("tags", sa.Column("id", sa.BigInteger, primary_key=True))'
    write_revision(scratch_project, 1, f"{BASE}\n    {tags}")
    write_revision(
        scratch_project,
        2,
        """
        op.add_column("notes", sa.Column("tag_id", sa.BigInteger))
        op.create_foreign_key("fk_notes_tag", "notes", "tags", ["tag_id"], ["id"])
        """,
    )
    assert rules(failures(run_lint(scratch_project))) == {
        "adding-foreign-key-constraint",
        "constraint-missing-not-valid",
    }
    write_revision(
        scratch_project,
        2,
        """
        op.add_column("notes", sa.Column("tag_id", sa.BigInteger))
        op.execute(
            "ALTER TABLE notes ADD CONSTRAINT fk_notes_tag FOREIGN KEY (tag_id) "
            "REFERENCES tags (id) NOT VALID"
        )
        """,
    )
    assert failures(run_lint(scratch_project)) == []


def test_an_acknowledged_operation_warns_with_its_reason(scratch_project: ScratchProject) -> None:
    write_revision(scratch_project, 1, BASE)
    rev, _ = write_revision(
        scratch_project,
        2,
        'op.drop_column("notes", "body")',
        module='dbtasks_allow = {"ban-drop-column": "the column was unused since v2"}',
    )
    findings = run_lint(scratch_project)
    assert failures(findings) == []
    [acknowledged] = [f for f in findings if f.message.startswith("acknowledged:")]
    assert acknowledged.level is Level.WARN
    assert acknowledged.revision == rev
    assert acknowledged.message.startswith("acknowledged: the column was unused since v2 (")
    assert "ban-drop-column" in acknowledged.message


def test_a_set_of_rule_names_acknowledges_too(scratch_project: ScratchProject) -> None:
    write_revision(scratch_project, 1, BASE)
    write_revision(
        scratch_project,
        2,
        'op.create_index("ix_notes_body", "notes", ["body"])',
        module='dbtasks_allow = {"require-concurrent-index-creation"}',
    )
    assert failures(run_lint(scratch_project)) == []


def test_the_same_operations_on_a_table_the_revision_creates_pass(
    scratch_project: ScratchProject,
) -> None:
    write_revision(
        scratch_project,
        1,
        BASE
        + """
    op.create_table("tags", sa.Column("id", sa.BigInteger, primary_key=True), schema="app")
    op.create_index("ix_tags_id", "tags", ["id"])
    op.drop_column("notes", "body")
    op.create_index("ix_notes_id", "notes", ["id"])
    op.add_column("notes", sa.Column("title", sa.Text, nullable=False), schema="app")
    op.alter_column("notes", "id", type_=sa.Integer)
    op.execute('ALTER TABLE "notes" ADD CONSTRAINT ck_id CHECK (id > 0)')
    op.drop_table("notes")
    """,
    )
    findings = run_lint(scratch_project)
    assert failures(findings) == []
    assert not rules(findings) & lint_module.ON_EXISTING


def test_a_concurrent_index_in_an_autocommit_block_passes(scratch_project: ScratchProject) -> None:
    write_revision(scratch_project, 1, BASE)
    write_revision(
        scratch_project,
        2,
        """
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_notes_body", "notes", ["body"], postgresql_concurrently=True, if_not_exists=True
            )
        """,
    )
    assert failures(run_lint(scratch_project)) == []


def test_a_concurrent_index_inside_the_transaction_fails(scratch_project: ScratchProject) -> None:
    write_revision(scratch_project, 1, BASE)
    write_revision(
        scratch_project,
        2,
        'op.create_index("ix_notes_body", "notes", ["body"], postgresql_concurrently=True)',
    )
    assert rules(failures(run_lint(scratch_project))) == {
        "ban-concurrent-index-creation-in-transaction"
    }


def test_the_ignore_list_silences_a_rule(scratch_project: ScratchProject) -> None:
    write_revision(scratch_project, 1, BASE)
    write_revision(scratch_project, 2, 'op.drop_column("notes", "body")')
    assert rules(failures(run_lint(scratch_project))) == {"ban-drop-column"}
    ws = Workspace.open(scratch_project.settings(DB_LINT_IGNORE="ban-drop-column,prefer-identity"))
    findings = lint(ws, lambda rev: revision_sql(ws, rev), ws.settings)
    assert "ban-drop-column" not in rules(findings)
    assert "prefer-identity" not in rules(findings)
    assert failures(findings) == []


def test_a_revision_without_offline_sql_is_reported_not_fatal(
    scratch_project: ScratchProject,
) -> None:
    write_revision(scratch_project, 1, BASE)
    write_revision(
        scratch_project,
        2,
        """
        count = op.get_bind().execute(sa.text("SELECT count(*) FROM notes")).scalar()
        op.execute(f"COMMENT ON TABLE notes IS '{count} notes'")
        """,
    )
    rev3, _ = write_revision(scratch_project, 3, 'op.drop_column("notes", "body")')
    findings = run_lint(scratch_project)
    [skipped] = [f for f in findings if f.message.startswith("not linted")]
    assert skipped.revision == "r002" and skipped.level is Level.WARN
    assert [f.revision for f in failures(findings)] == [rev3]


def test_without_squawk_one_warning_says_what_to_install(
    scratch_project: ScratchProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_revision(scratch_project, 1, BASE)
    monkeypatch.setattr(lint_module, "find_squawk", lambda: None)
    [finding] = run_lint(scratch_project)
    assert finding.level is Level.WARN
    assert "pip install 'dbtasks[validate]'" in finding.message


def test_mindmirrors_history_has_no_failure(tmp_path: Path) -> None:
    project = make_project(tmp_path, make_settings(tmp_path), with_mindmirror=True)
    findings = run_lint(project)
    assert failures(findings) == [], [f.message for f in findings]


def test_findings_come_revision_by_revision_oldest_first(scratch_project: ScratchProject) -> None:
    write_revision(scratch_project, 1, BASE)
    write_revision(scratch_project, 2, 'op.drop_column("notes", "body")')
    write_revision(scratch_project, 3, "pass", module='dbtasks_allow = "ban-drop-table"')
    findings = run_lint(scratch_project)
    assert [(f.revision, f.level) for f in findings] == [
        ("r002", Level.FAIL),
        ("r003", Level.WARN),
    ]
    assert "dbtasks_allow is ignored" in findings[1].message


def test_a_statement_postgres_rejects_warns_and_the_rest_is_still_linted(
    scratch_project: ScratchProject,
) -> None:
    write_revision(scratch_project, 1, BASE)
    rev, file = write_revision(
        scratch_project,
        2,
        """
        op.execute("SELEC 1")
        op.drop_column("notes", "body")
        """,
    )
    findings = run_lint(scratch_project)
    [rejected] = [f for f in findings if f.message.startswith("syntax-error")]
    assert (rejected.level, rejected.revision, rejected.file) == (Level.WARN, rev, file)
    assert "SQL line " in rejected.message and "SELEC 1" in rejected.message
    assert "Postgres' parser rejects this statement" in rejected.message
    assert rules(failures(findings)) == {"ban-drop-column"}  # squawk read past it


def test_what_the_parse_tree_names_right_stays_on_the_new_table(
    scratch_project: ScratchProject,
) -> None:
    long = "ix_tags_" + "x" * 70  # Postgres cuts names at 63 bytes, DROP INDEX too
    write_revision(scratch_project, 1, BASE)
    write_revision(
        scratch_project,
        2,
        f"""
        op.execute("CREATE TABLE tags (id bigint PRIMARY KEY, name text)")
        op.execute("CREATE INDEX {long} ON tags (name)")
        op.execute("DROP INDEX {long[:63]}")
        op.execute("ALTER /* nested /* comment */ here */ TABLE tags ADD c int NOT NULL")
        op.execute("TRUNCATE ONLY tags CASCADE")
        """,
    )
    findings = run_lint(scratch_project)
    assert failures(findings) == [], [f.message for f in findings]
