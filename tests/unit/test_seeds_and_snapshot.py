"""SQL splitting for seeds, and snapshot fingerprints (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.errors import ConfigError
from dbtasks.seeds import seed_files, split_sql
from dbtasks.settings import Settings, load_settings
from dbtasks.snapshot import fingerprint, snapshot_name, versions_dirs
from tests.support import REPO


def test_split_respects_quotes_comments_and_dollar_quotes() -> None:
    sql = """-- header; not a statement
INSERT INTO t VALUES ('a;b', 'it''s');
/* block; comment */
CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;

SELECT "odd;name" FROM t
"""
    statements = split_sql(sql)
    assert [s.line for s in statements] == [2, 4, 6]
    assert statements[0].sql == "INSERT INTO t VALUES ('a;b', 'it''s')"
    assert "$body$ SELECT 1; $body$" in statements[1].sql
    assert statements[2].sql == 'SELECT "odd;name" FROM t'


def test_split_drops_comment_only_chunks() -> None:
    assert split_sql("-- nothing\n;\n/* still nothing */;") == []


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    (tmp_path / "alembic" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text((REPO / "alembic.ini").read_text())
    (tmp_path / "alembic" / "versions" / "001_a.py").write_text("revision = 'a'\n")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "002_b.sql").write_text("SELECT 2;\n")
    (tmp_path / "seeds" / "001_a.sql").write_text("SELECT 1;\n")
    return load_settings(environ={}, root=tmp_path)


def test_seed_files_sorted(project: Settings) -> None:
    assert [p.name for p in seed_files(project)] == ["001_a.sql", "002_b.sql"]


def test_missing_explicit_seed_is_config_error(project: Settings) -> None:
    settings = load_settings(environ={"DB_SEEDS": "seeds/nope.sql"}, root=project.project_root)
    with pytest.raises(ConfigError, match="does not exist"):
        seed_files(settings)


def test_versions_dir_from_alembic_ini(project: Settings) -> None:
    assert versions_dirs(project) == [project.project_root / "alembic" / "versions"]


def test_fingerprint_changes_with_migrations_and_seeds(project: Settings) -> None:
    root = project.project_root
    first = fingerprint(project, seed=True)
    assert fingerprint(project, seed=True) == first
    assert fingerprint(project, seed=False) != first
    (root / "alembic" / "versions" / "001_a.py").write_text("revision = 'a'  # edited\n")
    second = fingerprint(project, seed=True)
    assert second != first
    (root / "seeds" / "001_a.sql").write_text("SELECT 10;\n")
    third = fingerprint(project, seed=True)
    assert third != second
    assert fingerprint(project, seed=False) == fingerprint(project, seed=False)
    (root / "alembic" / "versions" / "002_b.py").write_text("revision = 'b'\n")
    assert fingerprint(project, seed=True) != third


def test_snapshot_name_fits_postgres_limit() -> None:
    name = snapshot_name("x" * 63, "f" * 64)
    assert len(f"{name}_build") <= 63
