"""`inv db.plan` and `db.upgrade --plan` from the command line: table, JSON, Markdown,
--fail-on's exit 3, bad flags' exit 2, no consent without --yes (exit 4)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.integration.test_plan_trace import TABLE, TEMPLATE, TIMEOUT
from tests.projects import ScratchProject, make_project

pytestmark = pytest.mark.e2e


def write(project: ScratchProject, order: int, rev: str, down: str | None, up: str) -> None:
    text = TEMPLATE.format(rev=rev, down=down, up=up, down_body="    pass")
    (project.versions / f"{order:03d}_{rev}.py").write_text(text)


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    """At b000 (a table `t`); pending: a safe column (with lock_timeout), then an index
    built without CONCURRENTLY and without lock_timeout."""
    project = make_project(tmp_path, cluster)
    write(project, 0, "b000", None, f'    op.execute("CREATE TABLE t ({TABLE})")')
    write(project, 1, "r001", "b000", TIMEOUT + '    op.add_column("t", sa.Column("m", sa.Text))')
    write(project, 2, "r002", "r001", '    op.create_index("ix_t_n", "t", ["n"])')
    assert project.inv("db.upgrade", "-r", "b000").returncode == 0
    return project


def test_the_plan_is_a_table_per_revision(project: ScratchProject) -> None:
    result = project.inv("db.plan")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "r001 r001 (alembic/versions/001_r001.py): risk none" in out
    assert "r002 r002 (alembic/versions/002_r002.py): risk medium" in out
    assert "statement" in out and "blocks" in out and "SHARE app.t" in out
    assert "index-not-concurrent (eugene E6" in out and "postgresql_concurrently=True" in out
    assert "2 revision(s) planned" in out and "Traceback" not in result.stderr


def test_json_says_the_same_for_machines(project: ScratchProject) -> None:
    result = project.inv("db.plan", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["risk"] == "medium" and found["current"] == ["b000"]
    first, second = found["revisions"]
    assert (first["id"], first["risk"], second["id"], second["risk"]) == (
        "r001",
        "none",
        "r002",
        "medium",
    )
    (index,) = [s for s in second["statements"] if "CREATE INDEX" in s["sql"]]
    assert {"relation": "app.t", "kind": "table", "mode": "ShareLock", "observed": True} in index[
        "locks"
    ]
    assert {h["code"] for h in index["hints"]} == {"index-not-concurrent", "no-lock-timeout"}
    assert first["downgrade"]["shape"] == "empty" and first["downgrade"]["ran"] is True


def test_fail_on_exits_3_at_or_above_the_threshold(project: ScratchProject) -> None:
    assert project.inv("db.plan", "--fail-on", "high").returncode == 0
    failed = project.inv("db.plan", "--fail-on", "medium")
    assert failed.returncode == 3
    assert "error: the plan's risk is medium (--fail-on medium)" in failed.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--fail-on", "severe"), "--fail-on 'severe': choose high, medium or low"),
        (("--downgrade",), "--downgrade needs the revision to go down to"),
        (("-r", "nosuch"), "nosuch"),
    ],
)
def test_bad_input_is_exit_2_in_one_line(
    project: ScratchProject, args: tuple[str, ...], said: str
) -> None:
    result = project.inv("db.plan", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert said in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_markdown_is_a_pull_request_comment(project: ScratchProject) -> None:
    result = project.inv("db.plan", "--markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### 🟠 `db.plan`: upgrade of 2 revision(s), risk **medium**")
    assert (
        "| statement | lock | blocks | rewrite | rows | size | time | risk | hint |"
        in result.stdout
    )
    assert "- **index-not-concurrent** (eugene E6" in result.stdout


def test_a_rollback_plan_names_what_it_loses(project: ScratchProject) -> None:
    assert project.inv("db.upgrade").returncode == 0
    result = project.inv("db.plan", "--downgrade", "-r", "b000", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["direction"] == "downgrade"
    assert [r["id"] for r in found["revisions"]] == ["r002", "r001"]


def test_upgrade_with_plan_asks_and_refuses_without_yes(project: ScratchProject) -> None:
    refused = project.inv("db.upgrade", "--plan")
    assert refused.returncode == 4, refused.stderr
    assert "index-not-concurrent" in refused.stdout
    assert "without --yes" in refused.stderr
    status = json.loads(project.inv("db.status", "--json").stdout)
    assert status["current"] == ["b000"]
    applied = project.inv("db.upgrade", "--plan", "--yes")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(project.inv("db.status", "--json").stdout)["current"] == ["r002"]


def test_validate_runs_the_plan_check_on_request(project: ScratchProject) -> None:
    result = project.inv("db.validate", "--json", "--only", "plan")
    (check,) = json.loads(result.stdout)["checks"]
    assert result.returncode == 0 and check["check"] == "plan" and check["level"] == "warn"
    assert [f["revision"] for f in check["findings"]] == ["r002"]
    default = json.loads(project.inv("db.validate", "--json", "--skip", "lint").stdout)
    assert "plan" not in [c["check"] for c in default["checks"]]


def test_mindmirror_plans(tmp_path: Path, cluster: Settings) -> None:
    project = make_project(tmp_path, cluster, with_mindmirror=True)
    assert project.inv("db.upgrade", "-r", "5b9e0513058e").returncode == 0  # the first
    result = project.inv("db.plan", "--json")
    assert result.returncode == 0, result.stderr
    (pending,) = json.loads(result.stdout)["revisions"]
    assert pending["error"] is None and pending["statements"]


# -- db.plan --fix ---------------------------------------------------------------------------

RISKY = (
    '    op.create_index("ix_t_n", "t", ["n"])\n'
    '    op.create_foreign_key("fk_t", "t", "t", ["pid"], ["id"])\n'
    '    op.add_column("t", sa.Column("m", sa.Text))\n'
    '    op.drop_column("u", "s")'
)
UNDO = (
    '    op.add_column("u", sa.Column("s", sa.Text))\n'
    '    op.drop_column("t", "m")\n'
    '    op.drop_constraint("fk_t", "t", type_="foreignkey")\n'
    '    op.drop_index("ix_t_n", table_name="t")'
)


# The schema once r001 (or its safe forms) ran: db.validate compares the models with it.
FIXED_MODELS = """
from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Table, Text

metadata = MetaData()
t = Table("t", metadata, Column("id", Integer, primary_key=True), Column("n", Integer),
          Column("s", Text), Column("pid", Integer, ForeignKey("t.id", name="fk_t")),
          Column("m", Text), Index("ix_t_n", "n"))
u = Table("u", metadata, Column("id", Integer, primary_key=True), Column("n", Integer),
          Column("pid", Integer))
"""


def write_fixable(project: ScratchProject) -> Path:
    """At b000 (tables t and u); pending r001: a plain index, a validated foreign key, a
    column without lock_timeout, all on t (each has a safe form), and a dropped column of
    u (which has none)."""
    project.write_models(FIXED_MODELS)
    base = f'    op.execute("CREATE TABLE t ({TABLE})")\n    op.execute("CREATE TABLE u ({TABLE})")'
    drop = '    op.execute("DROP TABLE u")\n    op.execute("DROP TABLE t")'
    text = TEMPLATE.format(rev="b000", down=None, up=base, down_body=drop)
    (project.versions / "000_b000.py").write_text(text)
    text = TEMPLATE.format(rev="r001", down="b000", up=RISKY, down_body=UNDO)
    text += 'dbtasks_allow = {"ban-drop-column": "u.s is read by nobody"}\n'  # lint's
    path = project.versions / "001_r001.py"
    path.write_text(text)
    assert project.inv("db.upgrade", "-r", "b000").returncode == 0
    return path


@pytest.fixture
def fixable(tmp_path: Path, cluster: Settings) -> tuple[ScratchProject, Path]:
    project = make_project(tmp_path, cluster)
    return project, write_fixable(project)


def down_revision(path: Path) -> object:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and "down_revision" in ast.unparse(node):
            assert node.value is not None
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} has no down_revision")


def new_files(project: ScratchProject, before: list[Path]) -> list[Path]:
    return [p for p in project.revision_files() if p not in before]


def test_fix_writes_the_safe_forms_after_the_head(fixable: tuple[ScratchProject, Path]) -> None:
    project, pending = fixable
    before, original = project.revision_files(), pending.read_text()
    result = project.inv("db.plan", "--fix")
    assert result.returncode == 0, result.stderr
    (written,) = new_files(project, before)
    assert pending.read_text() == original  # no revision file is edited
    text = written.read_text()
    assert down_revision(written) == "r001" and "Revises: r001" in text
    upgrade = text.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert upgrade.index("op.drop_index(") < upgrade.index("op.create_index(")
    assert 'op.create_index("ix_t_n", "t", ["n"], postgresql_concurrently=True)' in upgrade
    assert "REFERENCES t (id) NOT VALID" in upgrade
    assert "VALIDATE CONSTRAINT fk_t" in upgrade and "SET lock_timeout = '2s'" in upgrade
    assert upgrade.count("SET LOCAL lock_timeout = '2s'") == 2  # before the FK and the column
    assert "ADD COLUMN m text" in upgrade and "drop_column" not in upgrade
    downgrade = text.split("def downgrade() -> None:")[1]
    for undo in ("DROP COLUMN IF EXISTS m", "DROP CONSTRAINT IF EXISTS fk_t", "op.drop_index("):
        assert undo in downgrade
    out = result.stdout
    assert f"fix: wrote {written.relative_to(project.root)}" in out and "after r001" in out
    for line in (12, 13, 14, 20, 21, 22):
        assert f"alembic/versions/001_r001.py line {line} (" in out, out
    assert "001_r001.py line 15" not in out.split("kept as a hint")[0]
    assert "kept as a hint: alembic/versions/001_r001.py line 15 (upgrade()): " in out
    assert "[drop-column, no-lock-timeout, work-under-exclusive-lock]: no safe form" in out


def test_json_gives_the_lines_and_the_written_file(fixable: tuple[ScratchProject, Path]) -> None:
    project, _ = fixable
    result = project.inv("db.plan", "--fix", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    (revision,) = found["revisions"]
    index = next(s for s in revision["statements"] if "CREATE INDEX" in s["sql"])
    assert index["line"] == 12
    fix = found["fix"]
    assert fix["after"] == "r001" and fix["written"].startswith("alembic/versions/")
    removed = [(r["function"], r["first"]) for r in fix["remove"]]
    expected = [("upgrade", line) for line in (12, 13, 14)]
    assert removed == expected + [("downgrade", line) for line in (20, 21, 22)]


def remove_lines(path: Path, numbers: set[int]) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for i, line in enumerate(lines, 1) if i not in numbers))


def test_the_fixed_history_plans_clean_and_validates(fixable: tuple[ScratchProject, Path]) -> None:
    """The round trip: the printed lines removed, the new revision kept."""
    project, pending = fixable
    fixed = json.loads(project.inv("db.plan", "--fix", "--json").stdout)["fix"]
    assert {r["file"] for r in fixed["remove"]} == {str(pending.relative_to(project.root))}
    remove_lines(pending, {n for r in fixed["remove"] for n in range(r["first"], r["last"] + 1)})
    result = project.inv("db.plan", "--json")
    assert result.returncode == 0, result.stderr
    planned = json.loads(result.stdout)
    assert [r["id"] for r in planned["revisions"]] == ["r001", fixed["revision"]]
    assert all(r["error"] is None for r in planned["revisions"])
    fix = planned["revisions"][1]
    codes = {h["code"] for s in fix["statements"] for h in s["hints"]}
    assert not codes & {"index-not-concurrent", "validated-constraint", "no-lock-timeout"}, codes
    validate = next(s for s in fix["statements"] if "VALIDATE" in s["sql"])
    assert [lock["mode"] for lock in validate["locks"]] == ["ShareUpdateExclusiveLock"]
    assert fix["risk"] == "low"
    assert fix["downgrade"]["shape"] == "present" and fix["downgrade"]["error"] is None
    assert project.inv("db.upgrade").returncode == 0
    index = project.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_t_n'")
    assert index == [("CREATE INDEX ix_t_n ON app.t USING btree (n)",)]
    valid = project.query("SELECT convalidated FROM pg_constraint WHERE conname = 'fk_t'")
    assert valid == [(True,)]
    validated = project.inv("db.validate")
    assert validated.returncode == 0, (validated.stdout, validated.stderr)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--downgrade", "-r", "b000"), "--fix writes the safe forms of an upgrade"),
        (("--markdown",), "run --fix and --markdown separately"),
        (("-r", "r001"), "--fix plans every pending revision, not those up to -r r001"),
    ],
)
def test_fix_refuses_what_it_cannot_write_for(
    fixable: tuple[ScratchProject, Path], args: tuple[str, ...], said: str
) -> None:
    project, _ = fixable
    before = project.revision_files()
    result = project.inv("db.plan", "--fix", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert project.revision_files() == before


def test_fix_refuses_several_heads(fixable: tuple[ScratchProject, Path]) -> None:
    project, _ = fixable
    write(project, 2, "b002", "b000", "    pass")
    before = project.revision_files()
    result = project.inv("db.plan", "--fix")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "there are 2: " in result.stderr and "inv db.merge" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert project.revision_files() == before


def test_nothing_mechanical_writes_nothing(project: ScratchProject) -> None:
    """r002's index follows r001 on the same table... and a rename has no safe form."""
    write(project, 3, "r003", "r002", '    op.alter_column("t", "s", new_column_name="body")')
    before = project.revision_files()
    result = project.inv("db.plan", "--fix")
    assert result.returncode == 0, result.stderr
    assert "fix: nothing written" in result.stdout
    assert "kept as a hint: alembic/versions/003_r003.py line 12 (upgrade()): " in result.stdout
    assert project.revision_files() == before
