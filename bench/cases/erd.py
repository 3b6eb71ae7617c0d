"""`inv db.erd` on generated schemas: N/5 tables to Mermaid, N tables split to Mermaid
(Markdown, with its index) and to SVG, against the floor of its scratch build (a clone of
the snapshot and its drop, in-process).

The issue's budgets, at N=1,000: 200 tables to Mermaid in 2 s including the scratch build
from a snapshot, 1,000 tables split and to SVG in 10 s each; `budgets` turns the medians
into notes (the bench measures, it does not gate). Every timed run starts from a snapshot
that exists and must still be the same one afterwards (a rebuild would time the history,
not the drawing), and its output must draw every table exactly once, each Mermaid chunk
under Mermaid's 50,000 characters.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from bench import proc
from bench.cases.reset import snapshot_oid
from bench.checks import SCHEMA, CheckFailed
from bench.context import Bench
from bench.harness import Case, CaseResult, Ratio, Side
from bench.project import REPO

CLUSTER = 5  # tables per foreign-key cluster: one head, four referencing it
BUDGETS = {"mermaid_small": 2.0, "mermaid_split": 10.0, "svg_split": 10.0}
FLOOR = "clone_floor"
MERMAID_LIMIT = 50_000

REVISION = '''"""{n} tables in clusters of {cluster}

Revision ID: erd{n}
Revises:
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "erd{n}"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TYPE mood AS ENUM ('great', 'good', 'low')")
    for c in range({clusters}):
        head = f"c{{c:04d}}_t0"
        op.execute(
            f"CREATE TABLE {{head}} (id bigint PRIMARY KEY, name varchar(80) NOT NULL, "
            "price numeric(10,2), tags text[], mood mood, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
        for i in range(1, {cluster}):
            op.execute(
                f"CREATE TABLE c{{c:04d}}_t{{i}} (id bigint PRIMARY KEY, "
                f"head_id bigint NOT NULL REFERENCES {{head}} (id) ON DELETE CASCADE, "
                "note text, amount numeric(10,2), created_at timestamptz NOT NULL DEFAULT now())"
            )


def downgrade() -> None:
    raise NotImplementedError
'''


def make_schema_project(root: Path, tables: int) -> Path:
    """A project whose one revision creates `tables` tables (a multiple of CLUSTER)."""
    (root / "alembic" / "versions").mkdir(parents=True, exist_ok=True)
    for name in ("alembic.ini", "tasks.py"):
        shutil.copy(REPO / name, root / name)
    for name in ("env.py", "script.py.mako"):
        shutil.copy(REPO / "alembic" / name, root / "alembic" / name)
    (root / "pyproject.toml").write_text(f'[tool.dbtasks]\nschema = "{SCHEMA}"\n')
    text = REVISION.format(n=tables, cluster=CLUSTER, clusters=tables // CLUSTER)
    (root / "alembic" / "versions" / f"erd{tables}.py").write_text(text)
    return root


def _entities(mermaid: str) -> int:
    return sum(1 for line in mermaid.splitlines() if re.fullmatch(r"    \S.* \{", line))


def drawn_once(tables: int) -> Callable[[str], None]:
    """A check of Mermaid or Markdown output: every table once, each chunk within limits."""

    def check(output: str) -> None:
        chunks = output.split("```mermaid\n")[1:] or [output]
        chunks = [c.split("```", 1)[0] for c in chunks]
        too_long = [len(c) for c in chunks if len(c) >= MERMAID_LIMIT]
        if too_long:
            raise CheckFailed(f"a Mermaid chunk of {too_long[0]} characters")
        found = sum(_entities(c) for c in chunks)
        if found != tables:
            raise CheckFailed(f"{found} tables drawn, expected {tables}")

    return check


def nodes(tables: int) -> Callable[[str], None]:
    def check(output: str) -> None:
        legends = output.count("<title>erd types</title>")  # each chunk's enum legend
        found = output.count('class="node"') - legends
        if not output.startswith("<?xml") or found != tables:
            raise CheckFailed(f"the SVG draws {found} tables, expected {tables}")

    return check


def _ours(
    b: Bench, root: Path, database: str, label: str, args: list[str], check: Callable[[str], None]
) -> Side:
    env, seen, out = b.ours(database), [0], [""]

    def precondition() -> None:
        seen[0] = snapshot_oid(b, database)

    def run() -> None:
        out[0] = proc.run([*proc.INV, "db.erd", *args], root, env).stdout

    def verify() -> None:
        check(out[0])
        if snapshot_oid(b, database) != seen[0]:
            raise CheckFailed("the snapshot was rebuilt during the timed run")

    command = f"inv db.erd {' '.join(args)} ({label})".replace("  ", " ")
    return Side(label.split()[0], command, run, precondition=precondition, verify=verify)


def _floor(b: Bench, database: str) -> Side:
    from psycopg2 import sql

    def run() -> None:
        clone = sql.Identifier(f"erd_floor_{uuid.uuid4().hex[:8]}")
        with b.server.admin() as cur:
            oid = snapshot_oid(b, database)
            cur.execute("SELECT datname FROM pg_database WHERE oid = %s", (oid,))
            template = sql.Identifier(cur.fetchone()[0])
            cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(clone, template))
            cur.execute(sql.SQL("DROP DATABASE {}").format(clone))

    return Side(FLOOR, "CREATE DATABASE ... TEMPLATE snapshot; DROP DATABASE (in-process)", run)


def erd(b: Bench, n: int = 1000) -> Case:
    """The comparison at N tables (the small picture has N/5)."""
    small = max(n // 5 // CLUSTER * CLUSTER, CLUSTER)
    big = max(n // CLUSTER * CLUSTER, CLUSTER)
    roots = {t: make_schema_project(b.root / "projects" / f"erd{t}", t) for t in (small, big)}
    names = {t: f"bench_erd_{t}" for t in (small, big)}

    def setup() -> None:  # the snapshots, built once: the timed runs clone them
        for tables, root in roots.items():
            proc.run([*proc.INV, "db.erd"], root, b.ours(names[tables]))

    def side(tables: int, label: str, args: list[str], check: Callable[[str], None]) -> Side:
        return _ours(b, roots[tables], names[tables], f"{label} {tables} tables", args, check)

    sides = [
        side(small, "mermaid_small", [], drawn_once(small)),
        side(big, "mermaid_split", ["--format", "markdown"], drawn_once(big)),
        _floor(b, names[small]),
    ]
    if shutil.which("dot"):
        sides.append(side(big, "svg_split", ["--format", "svg"], nodes(big)))
    ratios = tuple(Ratio(s.name, FLOOR, None) for s in sides if s.name != FLOOR)
    return Case("erd", big, tuple(sides), ratios, setup)


def budgets(result: CaseResult) -> list[str]:
    """The issue's budgets as notes: each side's median against its seconds."""
    notes = []
    for side, seconds in BUDGETS.items():
        median = result.median(side)
        if median is None:
            why = "dot not installed" if side.startswith("svg") else "no result"
            notes.append(f"{side}: {why}")
            continue
        verdict = "PASS" if median <= seconds else "MISS"
        n = result.revisions
        at = "" if n == 1000 else f" (budgets are for N=1000, not {n})"
        notes.append(f"{side}: {median:.2f} s, budget {seconds:g} s: {verdict}{at}")
    if shutil.which("dot") is None:
        notes.append("svg_split skipped: Graphviz's dot is not installed (apt install graphviz)")
    return notes
