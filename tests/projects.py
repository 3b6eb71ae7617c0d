"""Scratch Alembic projects: the repository's wiring, a models module, synthetic revisions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from dbtasks.settings import Settings, load_settings
from tests.support import REPO

SMALL_MODELS = """
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})
notes = Table("notes", metadata, Column("id", Integer, primary_key=True),
              Column("body", String(200), nullable=False))
"""

INV = [sys.executable, "-m", "invoke"]

REVISION = '''"""{message}

Revision ID: {rev}
Revises: {down}
Create Date: 2026-01-01 00:00:{second:02d}
"""

from alembic import op

revision = {rev!r}
down_revision = {down_value}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE IF NOT EXISTS applied_log (rev text NOT NULL)")
    op.execute("INSERT INTO applied_log VALUES ('{rev}')")
    {upgrade}


def downgrade() -> None:
    op.execute("DELETE FROM applied_log WHERE rev = '{rev}'")
    {downgrade}
'''


@dataclass
class ScratchProject:
    root: Path
    module: str
    env: dict[str, str]

    @property
    def versions(self) -> Path:
        return self.root / "alembic" / "versions"

    def settings(self, **overrides: str) -> Settings:
        return load_settings(environ={**self.env, **overrides}, root=self.root)

    def query(self, sql: str) -> list[tuple[object, ...]]:
        """Rows of `sql` on the project's database, read with plain psycopg2."""
        import psycopg2

        conn = psycopg2.connect(**self.settings().endpoint.connect_kwargs())
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())
        finally:
            conn.close()

    def write_models(self, source: str) -> None:
        """Changed models go in a new module: the old one stays cached in this process."""
        attr = self.env["DB_METADATA"].split(":")[1]
        self.module = f"models_{uuid.uuid4().hex[:10]}"
        (self.root / f"{self.module}.py").write_text(source)
        self.env["DB_METADATA"] = f"{self.module}:{attr}"

    def revision_files(self) -> list[Path]:
        return sorted(self.versions.glob("*.py"))

    def inv_env(self, **overrides: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
        return {**base, **self.env, **overrides}

    def inv(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`inv ARGS` in this project, in this process (see `tests.cli`)."""
        from tests.cli import run_inv

        return run_inv(self.root, self.inv_env(**env), args)

    def process(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """The real `inv` command in a process of its own, stdin not a terminal: where the
        process itself is the point (its exit code end to end, what it imports)."""
        return subprocess.run(
            [*INV, *args],
            cwd=self.root,
            env=self.inv_env(**env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*INV, *args],
            cwd=self.root,
            env=self.inv_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def make_project(
    root: Path, cluster: Settings, models: str = SMALL_MODELS, with_mindmirror: bool = False
) -> ScratchProject:
    """A project in `root` whose database is a new one on the session cluster."""
    (root / "alembic" / "versions").mkdir(parents=True)
    shutil.copy(REPO / "alembic.ini", root / "alembic.ini")
    shutil.copy(REPO / "tasks.py", root / "tasks.py")
    (root / "pyproject.toml").write_text("[tool.dbtasks]\n")
    for name in ("env.py", "script.py.mako"):
        shutil.copy(REPO / "alembic" / name, root / "alembic" / name)
    # A unique module name: in-process tests must never see another test's cached models.
    module = f"models_{uuid.uuid4().hex[:10]}"
    if with_mindmirror:
        models = (REPO / "src" / "mindmirror" / "models.py").read_text()
        for path in (REPO / "alembic" / "versions").glob("*.py"):
            shutil.copy(path, root / "alembic" / "versions" / path.name)
        shutil.copytree(REPO / "seeds", root / "seeds")
    (root / f"{module}.py").write_text(models)
    ep = cluster.endpoint
    env = {
        "DB_HOST": ep.host,
        "DB_PORT": str(ep.port),
        "DB_USER": ep.user,
        "DB_PASS": ep.password,
        "DB_NAME": f"db_{uuid.uuid4().hex[:12]}",
        "DB_SCHEMA": "app",
        "DB_DATA_DIR": str(cluster.data_dir),
        "DB_METADATA": f"{module}:{'Base.metadata' if with_mindmirror else 'metadata'}",
        "DB_HEALTH_TIMEOUT": "10",
        "DB_LOCK_TIMEOUT": "30",
    }
    if with_mindmirror:  # a Supabase project: auth.users, auth.uid() and its roles
        env["DB_BASELINE"] = "supabase"
    return ScratchProject(root, module, env)


def revision_text(
    rev: str,
    down: str | tuple[str, ...] | None,
    upgrade: str = "pass",
    downgrade: str = "pass",
    message: str | None = None,
    second: int = 0,
) -> str:
    """One revision file of the REVISION template."""
    return REVISION.format(
        message=message or f"rev {rev}",
        rev=rev,
        down=", ".join(down) if isinstance(down, tuple) else down or "",
        down_value=repr(down),
        second=second % 60,
        upgrade=upgrade,
        downgrade=downgrade,
    )


def write_chain(
    versions: Path, count: int, fail_at: int | None = None, sleep_in_first: float = 0
) -> list[str]:
    """`count` linear revisions r001..; each logs itself and creates table tNNN."""
    ids = [f"r{i:03d}" for i in range(1, count + 1)]
    for i, rev in enumerate(ids, start=1):
        upgrade = f'op.execute("CREATE TABLE t{i:03d} (id int)")'
        if i == fail_at:
            upgrade += '\n    op.execute("SELECT * FROM no_such_table")'
        if i == 1 and sleep_in_first:
            upgrade += f'\n    op.execute("SELECT pg_sleep({sleep_in_first})")'
        down = ids[i - 2] if i > 1 else None
        undo = f'op.execute("DROP TABLE t{i:03d}")'
        text = revision_text(rev, down, upgrade, undo, message=f"step {i}", second=i)
        (versions / f"{i:03d}_{rev}.py").write_text(text)
    return ids
