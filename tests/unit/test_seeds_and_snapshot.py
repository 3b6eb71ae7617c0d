"""SQL splitting for seeds, and snapshot fingerprints (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.adapter.workspace import Workspace
from dbtasks.errors import ConfigError
from dbtasks.migrations.graph_cache import Locations
from dbtasks.seeds import seed_files, split_sql
from dbtasks.settings import Settings, load_settings
from dbtasks.snapshot import derived_name, fingerprint, scratch_name, snapshot_name
from tests.projects import revision_text
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


def revision_file(path: Path, rev: str, down: str | None = None, extra: str = "") -> None:
    path.write_text(revision_text(rev, down, extra or "pass"))


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    (tmp_path / "alembic" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text((REPO / "alembic.ini").read_text())
    revision_file(tmp_path / "alembic" / "versions" / "001_a.py", "a")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "002_b.sql").write_text("SELECT 2;\n")
    (tmp_path / "seeds" / "001_a.sql").write_text("SELECT 1;\n")
    return load_settings(environ={}, root=tmp_path)


def where(settings: Settings) -> Locations:
    return Workspace.open(settings).state.where


def test_seed_files_sorted(project: Settings) -> None:
    assert [p.name for p in seed_files(project)] == ["001_a.sql", "002_b.sql"]


def test_missing_explicit_seed_is_config_error(project: Settings) -> None:
    settings = load_settings(environ={"DB_SEEDS": "seeds/nope.sql"}, root=project.project_root)
    with pytest.raises(ConfigError, match="does not exist"):
        seed_files(settings)


def test_pattern_matching_nothing_warns(project: Settings) -> None:
    settings = load_settings(
        environ={"DB_SEEDS": "seeds/*.sql,nothing/*.sql"}, root=project.project_root
    )
    warned: list[str] = []
    assert len(seed_files(settings, warn=warned.append)) == 2
    assert warned == ["DB_SEEDS pattern 'nothing/*.sql' matches no file"]


def test_versions_dir_from_alembic_ini(project: Settings) -> None:
    assert where(project).folders == (project.project_root / "alembic" / "versions",)


def test_version_folders_joined_by_the_os_separator(project: Settings) -> None:
    """Alembic reads `path_separator = os`: a hand-written parser splitting on spaces or
    commas saw one folder, so an edit in the second never changed the fingerprint."""
    root = project.project_root
    (root / "more").mkdir()
    revision_file(root / "more" / "002_b.py", "b", "a")
    ini = (root / "alembic.ini").read_text()
    ini = ini.replace(
        "path_separator = os",
        "path_separator = os\nversion_locations = %(here)s/alembic/versions:%(here)s/more",
    )
    (root / "alembic.ini").write_text(ini)
    found = where(project)
    assert found.folders == (root / "alembic" / "versions", root / "more")
    before = fingerprint(project, True, found)
    revision_file(root / "more" / "002_b.py", "b", "a", extra="op.execute('SELECT 1')")
    assert fingerprint(project, True, found) != before


def test_seed_callable_module_is_fingerprinted(project: Settings) -> None:
    root = project.project_root
    (root / "pkg_seed_fp").mkdir()
    (root / "pkg_seed_fp" / "__init__.py").write_text("")
    (root / "pkg_seed_fp" / "data.py").write_text("def load(conn):\n    pass\n")
    settings = load_settings(environ={"DB_SEED_CALLABLE": "pkg_seed_fp.data:load"}, root=root)
    found = where(settings)
    before = fingerprint(settings, True, found)
    (root / "pkg_seed_fp" / "data.py").write_text("def load(conn):\n    return 1\n")
    assert fingerprint(settings, True, found) != before


def test_fingerprint_changes_with_migrations_and_seeds(project: Settings) -> None:
    root = project.project_root
    found = where(project)
    first = fingerprint(project, True, found)
    assert fingerprint(project, True, found) == first
    assert fingerprint(project, False, found) != first
    revision_file(root / "alembic" / "versions" / "001_a.py", "a", extra="op.execute('SELECT 2')")
    second = fingerprint(project, True, found)
    assert second != first
    (root / "seeds" / "001_a.sql").write_text("SELECT 10;\n")
    third = fingerprint(project, True, found)
    assert third != second
    assert fingerprint(project, False, found) == fingerprint(project, False, found)
    revision_file(root / "alembic" / "versions" / "002_b.py", "b", "a")
    assert fingerprint(project, True, found) != third


@pytest.mark.parametrize("database", ["x" * 63, "é" * 31, "mindmirror", "a" * 34])
def test_derived_names_fit_and_differ(database: str) -> None:
    name = snapshot_name(database, "f" * 64)
    for derived in (name, scratch_name(name)):
        assert len(derived.encode()) <= 63
        assert derived != database
    assert snapshot_name(database + "x", "f" * 64) != name or len(database.encode()) >= 63


def test_long_names_sharing_a_prefix_get_different_snapshots() -> None:
    assert snapshot_name("a" * 60 + "one", "k") != snapshot_name("a" * 60 + "two", "k")


def test_derived_name_cuts_by_bytes_not_characters() -> None:
    name = derived_name("é" * 40, "snap", "0" * 16)
    assert len(name.encode()) <= 63
    name.encode().decode("utf-8")  # still valid UTF-8: no character cut in half
