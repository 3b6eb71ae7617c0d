"""`inv db.plan` of 50 pending revisions, against `inv db.upgrade` of the same 50.

The target stands at b000, which made the tables; the pending revisions mix every kind
the plan reads (columns with lock_timeout, type changes, indexes built concurrently in
an autocommit block, NOT VALID checks, new tables, revisions that read rows through
op.get_bind()), each with a downgrade. Before each timed plan the target is at b000;
after it, the JSON names all 50 revisions, every one traced (no error, nothing skipped),
the row-reading ones with their SELECT. The warm-up builds the template snapshot the
timed runs clone. The upgrade side starts from a clone of the target at b000 and ends at
head. The issue's target: a plan of 50 pending revisions in 10 s or less.

Accuracy, once per mode before the timing: a target table of 1M rows, a type change
that rewrites it and an index build on it; db.plan's predictions against the same
statements run on a copy of the target (one run each), within 2x (the issue's figure).
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench import proc
from bench.checks import SCHEMA, CheckFailed
from bench.context import Bench
from bench.harness import Case, Ratio, Side
from bench.project import Project, make_project

PENDING = 50
BUDGET_S = 10.0
BIG_ROWS = 1_000_000
TARGET, UP, BASE = "plan_target", "plan_upgrade", "plan_base"
ACCURACY, COPY = "plan_accuracy", "plan_accuracy_copy"
NOTES: list[str] = []

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
{back}
'''
TIMEOUT = "    op.execute(\"SET LOCAL lock_timeout = '2s'\")\n"
TABLES = 10


def _kind(i: int, t: str) -> tuple[str, str]:
    """Revision i's upgrade and downgrade bodies, on table t."""
    kinds = [
        (
            TIMEOUT + f'    op.add_column("{t}", sa.Column("c{i}", sa.Text))',
            f'    op.drop_column("{t}", "c{i}")',
        ),
        (
            "    with op.get_context().autocommit_block():\n"
            f'        op.create_index("ix{i}", "{t}", ["n"], postgresql_concurrently=True)',
            "    with op.get_context().autocommit_block():\n"
            f'        op.drop_index("ix{i}", "{t}", postgresql_concurrently=True)',
        ),
        (
            TIMEOUT
            + f'    op.create_check_constraint("ck{i}", "{t}", "n > 0", postgresql_not_valid=True)',
            f'    op.drop_constraint("ck{i}", "{t}")',
        ),
        (
            f'    count = op.get_bind().execute(sa.text("SELECT count(*) FROM {t}")).scalar()\n'
            f"    op.execute(f\"COMMENT ON TABLE {t} IS '{{count}} rows'\")",
            f'    op.execute("COMMENT ON TABLE {t} IS NULL")',
        ),
        (
            f'    op.create_table("new{i}", sa.Column("id", sa.Integer, primary_key=True))',
            f'    op.drop_table("new{i}")',
        ),
    ]
    return kinds[i % len(kinds)]


def write_plan_history(project: Project) -> None:
    for old in project.versions.glob("*.py"):
        old.unlink()
    make = "\n".join(
        f'    op.execute("CREATE TABLE t{k} (id integer PRIMARY KEY, n integer, s text)")'
        for k in range(TABLES)
    )
    revisions: list[tuple[str, str | None, str, str]] = [("b000", None, make, "    pass")]
    for i in range(1, PENDING + 1):
        up, back = _kind(i, f"t{i % TABLES}")
        revisions.append((f"p{i:03d}", revisions[-1][0], up, back))
    for n, (rev, down, up, back) in enumerate(revisions):
        text = TEMPLATE.format(rev=rev, down=down, up=up, back=back)
        (project.versions / f"{n:03d}_{rev}.py").write_text(text, encoding="utf-8")


def plan(b: Bench, n: int) -> Case:
    project = _project(b, "plan-project", write_plan_history)
    env_target, env_up = b.ours(TARGET), b.ours(UP)

    def at_base(database: str) -> None:
        found = b.server.query(f"SELECT 1 FROM pg_database WHERE datname = '{database}'")
        if not found:
            raise CheckFailed(f"{database} is missing")
        rows = _query(b, database, f"SELECT version_num FROM {SCHEMA}.alembic_version")
        if rows != [("b000",)]:
            raise CheckFailed(f"{database} is at {rows}, expected b000")

    def run_plan() -> None:
        result = proc.run([*proc.INV, "db.plan", "--json"], project.root, env_target)
        _require_traced(json.loads(result.stdout))

    def run_upgrade() -> None:
        proc.run([*proc.INV, "db.upgrade"], project.root, env_up)

    def at_head() -> None:
        rows = _query(b, UP, f"SELECT version_num FROM {SCHEMA}.alembic_version")
        if rows != [(f"p{PENDING:03d}",)]:
            raise CheckFailed(f"{UP} is at {rows} after the upgrade")

    sides = (
        Side(
            "plan",
            f"inv db.plan --json ({PENDING} pending)",
            run_plan,
            precondition=lambda: at_base(TARGET),
        ),
        Side(
            "upgrade",
            f"inv db.upgrade ({PENDING} pending)",
            run_upgrade,
            prepare=lambda: b.server.recreate(UP, template=BASE),
            precondition=lambda: at_base(UP),
            verify=at_head,
        ),
    )

    def setup() -> None:
        b.server.recreate(TARGET)
        proc.run([*proc.INV, "db.upgrade", "-r", "b000"], project.root, env_target)
        b.server.recreate(BASE, template=TARGET)
        NOTES.extend(_accuracy(b))

    return Case("plan", PENDING, sides, (Ratio("plan", "upgrade", None),), setup)


def take_notes(seconds: float | None) -> list[str]:
    found = list(NOTES)
    NOTES.clear()
    if seconds is not None:
        verdict = "PASS" if seconds <= BUDGET_S else "MISS"
        found.insert(
            0,
            f"plan of {PENDING} pending revisions: {seconds:.2f}s "
            f"(target <= {BUDGET_S:g}s: {verdict})",
        )
    return found


def _require_traced(report: dict[str, Any]) -> None:
    revisions = report.get("revisions") or []
    if len(revisions) != PENDING:
        raise CheckFailed(f"db.plan planned {len(revisions)} revisions, expected {PENDING}")
    untraced = [r["id"] for r in revisions if r["error"] or r["skipped"] or not r["statements"]]
    if untraced:
        raise CheckFailed(f"db.plan did not trace {untraced}")
    readers = [r for i, r in enumerate(revisions, 1) if i % 5 == 3]
    if not all(any(s["reads"] for s in r["statements"]) for r in readers):
        raise CheckFailed("db.plan did not trace the SELECT of a revision that reads rows")


def _project(b: Bench, name: str, write: Any) -> Project:
    root = b.root / name
    if not root.exists():
        project = make_project(root, 1)
        write(project)
        return project
    from bench.history import History

    return Project(root, History(0, ()))


# -- accuracy -----------------------------------------------------------------------------

ACCURACY_REVISIONS = [
    (
        "b000",
        None,
        '    op.execute("CREATE TABLE big (id bigint PRIMARY KEY, n integer, s text)")',
        "    pass",
    ),
    (
        "a001",
        "b000",
        TIMEOUT + '    op.alter_column("big", "n", type_=sa.BigInteger)',
        '    op.alter_column("big", "n", type_=sa.Integer)',
    ),
    (
        "a002",
        "a001",
        TIMEOUT + '    op.create_index("ix_big_s", "big", ["s"])',
        '    op.drop_index("ix_big_s", "big")',
    ),
]
STATEMENTS = {
    "a001": ("rewrite", f"ALTER TABLE {SCHEMA}.big ALTER COLUMN n TYPE bigint"),
    "a002": ("index build", f"CREATE INDEX ix_big_s ON {SCHEMA}.big (s)"),
}


def _write_accuracy(project: Project) -> None:
    for old in project.versions.glob("*.py"):
        old.unlink()
    for n, (rev, down, up, back) in enumerate(ACCURACY_REVISIONS):
        text = TEMPLATE.format(rev=rev, down=down, up=up, back=back)
        (project.versions / f"{n:03d}_{rev}.py").write_text(text, encoding="utf-8")


def _accuracy(b: Bench) -> list[str]:
    """db.plan's predictions on a 1M-row table against the statements' measured times."""
    project = _project(b, "plan-accuracy", _write_accuracy)
    env = b.ours(ACCURACY)
    b.server.recreate(ACCURACY)
    proc.run([*proc.INV, "db.upgrade", "-r", "b000"], project.root, env)
    fill = (
        f"INSERT INTO {SCHEMA}.big SELECT g, g % 1000, md5(g::text) "
        f"FROM generate_series(1, {BIG_ROWS}) g"
    )
    _query(b, ACCURACY, fill + f"; ANALYZE {SCHEMA}.big")
    (rows,) = _query(
        b, ACCURACY, f"SELECT reltuples::bigint FROM pg_class WHERE oid = '{SCHEMA}.big'::regclass"
    )
    if rows[0] < BIG_ROWS * 0.9:
        raise CheckFailed(f"the accuracy table holds {rows[0]} rows, expected {BIG_ROWS}")
    report = json.loads(proc.run([*proc.INV, "db.plan", "--json"], project.root, env).stdout)
    notes = []
    for revision in report["revisions"]:
        work, statement = STATEMENTS[revision["id"]]
        (predicted,) = [s["predicted"] for s in revision["statements"] if s["work"] == work]
        if predicted is None:
            raise CheckFailed(f"db.plan predicted no time for {revision['id']}'s {work}")
        measured = _measure(b, revision["id"], statement)
        ratio = predicted / measured
        verdict = "PASS" if 0.5 <= ratio <= 2 else "MISS"
        notes.append(
            f"{BIG_ROWS // 1000}k rows, {work}: predicted {predicted:.2f}s, measured "
            f"{measured:.2f}s ({ratio:.2f}x; within 2x: {verdict})"
        )
    return notes


def _measure(b: Bench, revision: str, statement: str) -> float:
    """The statement alone on a copy of the target (with the revisions before it)."""
    b.server.recreate(COPY, template=ACCURACY)
    before = [STATEMENTS[r][1] for r in STATEMENTS if r < revision]
    for earlier in before:
        _query(b, COPY, earlier)
    started = time.perf_counter()
    _query(b, COPY, statement)
    return time.perf_counter() - started


def _query(b: Bench, database: str, statement: str) -> list[tuple[Any, ...]]:
    from tests.support import sql

    return sql(b.server.endpoint, statement, database)
