"""`inv db.erd` on real databases: a history with the types and names that break other
tools, drawn at head, at a revision, and as a diff; the same bytes every run; the docs
gate; the errors; and nothing left behind."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from dbtasks import pg
from dbtasks.erd.output import BEGIN, END
from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project
from tests.security import leaked
from tests.support import HOSTILE_PASSWORD
from tests.unit.test_erd_grammar import MERMAID_VERSIONS, check, mermaid_js

pytestmark = pytest.mark.integration

REVISION = '''"""{message}

Revision ID: {rev}
Revises: {down}
Create Date: 2026-01-0{day} 00:00:00
"""

from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in {statements!r}:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError
'''

FIRST = [
    "CREATE TYPE mood AS ENUM ('great', 'good', 'low')",
    "CREATE DOMAIN email AS text CHECK (position('@' in VALUE) > 1)",
    'CREATE TABLE "Customer Accounts" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, '
    "email email NOT NULL UNIQUE, legacy text)",
    "COMMENT ON TABLE \"Customer Accounts\" IS 'who pays'",
    'CREATE TABLE "select" (id serial PRIMARY KEY, '
    'account_id bigint REFERENCES "Customer Accounts" (id) ON DELETE SET NULL, '
    "price numeric(10,2) NOT NULL, tags text[], moods mood[], mood mood, "
    "total numeric GENERATED ALWAYS AS (price * 2) STORED, "
    '"Order Date" timestamp with time zone)',
    'COMMENT ON COLUMN "select".price IS \'in "euros"\'',
    'CREATE INDEX ix_select_account ON "select" (account_id)',
]
SECOND = [
    'CREATE TABLE likes (id int PRIMARY KEY, select_id int NOT NULL REFERENCES "select" (id) '
    "ON DELETE CASCADE)",
    'ALTER TABLE "Customer Accounts" DROP COLUMN legacy',
]


@pytest.fixture
def awkward(tmp_path: Path, cluster: Settings) -> ScratchProject:
    project = make_project(tmp_path, cluster)
    for day, (rev, down, statements) in enumerate(
        [("a1", None, FIRST), ("b2", "a1", SECOND)], start=1
    ):
        text = REVISION.format(
            message=f"step {day}", rev=rev, down=down, day=day, statements=statements
        )
        (project.versions / f"{day:03d}_{rev}.py").write_text(text)
    return project


def one_error(stderr: str, said: str) -> bool:
    """One line says what went wrong (a snapshot's build may report progress before it),
    and nothing shows the cluster's password."""
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    return (
        len(errors) == 1
        and said in errors[0]
        and "Traceback" not in stderr
        and not leaked(stderr, HOSTILE_PASSWORD)
    )


def ok(project: ScratchProject, *args: str) -> str:
    result = project.inv("db.erd", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_head_is_valid_mermaid_with_the_real_types(awkward: ScratchProject) -> None:
    text = ok(awkward)
    assert check(text) == []
    for version in MERMAID_VERSIONS:
        assert mermaid_js([text], version) == [None], version
    for expected in (
        '"Customer Accounts" {',
        'bigint id PK "identity always"',
        'email email UK "domain over text CHECK',
        "numeric price \"numeric(10,2); in 'euros'\"",
        'mood[] moods "enum: great, good, low"',
        'numeric total "generated: (price * (2)::numeric)"',
        'timestamptz Order_Date "column Order Date"',
        'select }o..o| "Customer Accounts" : "account_id, on delete set null"',
        'likes }o..|| select : "select_id, on delete cascade"',
    ):
        assert expected in text, expected
    assert "legacy" not in text and "alembic_version" not in text


def test_a_revision_from_the_middle_and_base(awkward: ScratchProject) -> None:
    at_first = ok(awkward, "--rev", "a1")
    assert "text legacy" in at_first and "likes" not in at_first
    assert check(at_first) == []
    assert ok(awkward, "--rev", "base") == "erDiagram\n"


def test_a_diff_shows_exactly_the_added_table_and_the_dropped_column(
    awkward: ScratchProject,
) -> None:
    payload = json.loads(ok(awkward, "--diff", "a1..b2", "--format", "json"))
    assert payload["changes"] == [
        "- column app.Customer Accounts.legacy",
        "+ table app.likes",
    ]
    assert payload["since"] == ["a1"] and payload["revisions"] == ["b2"]
    marks = {t["name"]: t["change"] for t in payload["tables"]}
    assert marks == {"Customer Accounts": "changed", "likes": "added", "select": None}
    page = ok(awkward, "--diff", "a1..", "--format", "markdown")
    assert "- `+ table app.likes`" in page and 'text legacy "dropped"' in page
    fenced = page.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert check(fenced) == []


def test_ten_runs_are_byte_identical(awkward: ScratchProject) -> None:
    first = ok(awkward)
    assert all(ok(awkward) == first for _ in range(9))
    formats = ["json", "dot", "markdown"] + (["svg", "html"] if shutil.which("dot") else [])
    for format in formats:
        assert ok(awkward, "--format", format) == ok(awkward, "--format", format), format


def test_check_exits_3_on_a_stale_block_and_0_after_inject(awkward: ScratchProject) -> None:
    doc = awkward.root / "docs" / "schema.md"
    doc.parent.mkdir()
    doc.write_text(f"# Schema\n\n{BEGIN}\n{END}\n")
    stale = awkward.inv("db.erd", "--inject", "docs/schema.md", "--check")
    assert stale.returncode == 3, stale.stderr
    assert one_error(stale.stderr, "stale")
    assert awkward.inv("db.erd", "--inject", "docs/schema.md").returncode == 0
    assert "```mermaid\nerDiagram\n" in doc.read_text()
    fresh = awkward.inv("db.erd", "--inject", "docs/schema.md", "--check")
    assert fresh.returncode == 0 and "up to date" in fresh.stdout


def test_no_scratch_database_is_left_behind(awkward: ScratchProject, cluster: Settings) -> None:
    ok(awkward, "--diff", "a1..b2")
    with pg.maintenance(cluster.endpoint) as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", ("%\\_erd\\_%",))
        assert cur.fetchall() == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--format", "png"], "--format 'png': choose one of"),
        (["--focus", "selekt"], "did you mean select?"),
        (["--diff", "a1"], "expected two revisions as A..B"),
        (["--check"], "--check compares an --inject block"),
        (["--depth", "x", "--focus", "likes"], "--depth 'x'"),
        (["--schema", "nope"], "schema 'nope' has no tables"),
        (["--rev", "zzz"], "zzz"),
        (["--live", "--rev", "a1"], "--live reads the database as it is"),
    ],
)
def test_bad_input_is_exit_2_in_one_line(
    awkward: ScratchProject, args: list[str], said: str
) -> None:
    result = awkward.inv("db.erd", *args)
    assert result.returncode == 2, result.stderr
    assert one_error(result.stderr, said) and result.stdout == ""


def test_svg_without_graphviz_is_exit_2_and_text_formats_still_work(
    awkward: ScratchProject, tmp_path: Path
) -> None:
    bare = tmp_path / "bin"  # PATH without dot
    bare.mkdir()
    result = awkward.inv("db.erd", "--format", "svg", PATH=str(bare))
    assert result.returncode == 2
    assert "need Graphviz's dot, which is not installed" in result.stderr
    assert awkward.inv("db.erd", "--format", "dot", PATH=str(bare)).returncode == 0


def test_a_server_the_guard_refuses_gets_no_scratch_database(awkward: ScratchProject) -> None:
    result = awkward.inv("db.erd", DB_ENV="production")
    assert result.returncode == 4 and one_error(result.stderr, "production")
    assert "--live reads the configured database itself" in result.stderr
    remote = awkward.inv("db.erd", DB_HOST="db.prod.example.invalid", DB_BACKEND="external")
    assert remote.returncode == 4 and one_error(remote.stderr, "not on this machine")


def test_live_reads_the_developers_database_only_when_asked(awkward: ScratchProject) -> None:
    not_yet = awkward.inv("db.erd", "--live")
    assert not_yet.returncode == 1 and "does not exist" in not_yet.stderr
    assert awkward.inv("db.upgrade").returncode == 0
    assert ok(awkward, "--live") == ok(awkward)


def test_files_are_written_inside_the_project_only(awkward: ScratchProject) -> None:
    assert awkward.inv("db.erd", "--output", "erd.mmd").returncode == 0
    assert check((awkward.root / "erd.mmd").read_text()) == []
    outside = awkward.root.parent / f"outside-{os.getpid()}.mmd"
    refused = awkward.inv("db.erd", "--output", str(outside))
    assert refused.returncode == 4 and "refusing to write" in refused.stderr
    assert not outside.exists()
    (awkward.root / "link.mmd").symlink_to(awkward.root / "erd.mmd")
    assert awkward.inv("db.erd", "--output", "link.mmd").returncode == 4


@pytest.fixture
def mindmirror_at_home(tmp_path: Path, cluster: Settings) -> ScratchProject:
    """MindMirror's own migrations, in its own schema, as docs/schema.md draws them."""
    project = make_project(tmp_path, cluster, with_mindmirror=True)
    project.env["DB_SCHEMA"] = "mindmirror"
    return project


def test_rls_flags_on_the_supabase_baseline(mindmirror_at_home: ScratchProject) -> None:
    payload = json.loads(ok(mindmirror_at_home, "--format", "json"))
    rls = {t["name"]: t["rls"] for t in payload["tables"]}
    assert len(rls) == 6
    assert all(r == {"enabled": True, "forced": False, "policies": 1} for r in rls.values())
    assert payload["stubs"] == [{"schema": "auth", "name": "users", "columns": ["id"]}]
    before = ok(mindmirror_at_home, "--rev", "-1")
    assert '"profiles (RLS off)"' in before and "RLS on" not in before
    diff = ok(mindmirror_at_home, "--diff", "-1..head", "--format", "markdown")
    assert "- `~ table mindmirror.profiles: RLS off → on`" in diff
    assert "- `~ table mindmirror.profiles: policies 0 → 1`" in diff


def test_docs_schema_md_is_fresh(mindmirror_at_home: ScratchProject) -> None:
    """The docs gate CI runs, on the committed docs/schema.md."""
    from tests.support import REPO

    (mindmirror_at_home.root / "docs").mkdir()
    shutil.copy(REPO / "docs" / "schema.md", mindmirror_at_home.root / "docs" / "schema.md")
    result = mindmirror_at_home.inv("db.erd", "--inject", "docs/schema.md", "--check")
    assert result.returncode == 0, (
        f"{result.stderr}: run `inv db.erd --inject docs/schema.md` and commit docs/schema.md"
    )


def test_a_role_that_cannot_create_databases_draws_on_a_throwaway_cluster(
    awkward: ScratchProject, cluster: Settings, tmp_path: Path
) -> None:
    """No CREATEDB on the server: the scratch build moves to a native cluster of its own,
    which is gone afterwards, and the picture is the same as on the server."""
    import uuid

    import psycopg2

    expected = json.loads(ok(awkward, "--format", "json", "--rev", "a1"))
    role = f"nocreate_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD 'x-pass'")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    for folder in (tmp_path, tmp):
        folder.chmod(0o755)  # the server account reaches the cluster made below it
    try:
        result = awkward.inv(
            "db.erd", "--format", "json", "--rev", "a1", DB_USER=role, DB_PASS="x-pass",
            TMPDIR=str(tmp),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == expected
        assert list(tmp.iterdir()) == []
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP ROLE {role}")
        admin.close()
