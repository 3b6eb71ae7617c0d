"""What DB_METADATA's naming convention does to a history's unnamed constraints.

Alembic names the constraints an operation leaves unnamed with the target metadata's
naming convention. A history written without one relies on the names Postgres gives
(`authors_pkey`, `posts_author_id_slug_key`) and may drop them by those names later: run
under a convention, it makes other names, and that later revision fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adoption.harness import Database, Databases, Project, ok
from tests.adoption.histories import generic_history
from tests.adoption.layouts import fresh_project
from tests.adoption.revisions import write

pytestmark = [pytest.mark.adoption, pytest.mark.e2e]

MODELS = """from sqlalchemy import Column, Integer, MetaData, Table

metadata = MetaData(naming_convention={
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
})
authors = Table("authors", metadata, Column("id", Integer, primary_key=True))
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """Our env.py, a models module with a naming convention, the `alembic init` history."""
    fresh = fresh_project(tmp_path / "project", [], {"conventional.py": MODELS})
    write(fresh.root / "alembic" / "versions", generic_history())
    return fresh


def constraints(db: Database) -> set[str]:
    return {key[2] for key in db.describe(["public"]).constraints}


def test_without_db_metadata_postgres_names_them(project: Project, databases: Databases) -> None:
    db = databases.new()
    ok(project.inv(db, "db.upgrade", DB_SCHEMA="public"))
    assert {"authors_pkey", "authors_email_key", "posts_slug_key"} <= constraints(db)


def test_a_naming_convention_renames_them_and_breaks_a_later_drop(
    project: Project, databases: Databases
) -> None:
    db = databases.new()
    failed = project.inv(db, "db.upgrade", DB_SCHEMA="public", DB_METADATA="conventional:metadata")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    dropping = generic_history()[2]
    assert dropping.filename in failed.stderr
    assert 'constraint "posts_author_id_slug_key" of relation "posts" does not exist' in (
        failed.stderr
    )
    names = constraints(db)  # the two revisions before it stayed applied
    assert {"pk_authors", "uq_authors_email", "uq_posts_author_id_slug"} <= names
    assert "posts_author_id_slug_key" not in names
