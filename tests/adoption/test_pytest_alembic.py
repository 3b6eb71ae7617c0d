"""pytest-alembic's default tests on MindMirror's history, through our env.py.

pytest-alembic hands env.py an Engine in `config.attributes["connection"]`; the runtime
(`dbtasks.adapter.runtime`) opens its own connection from it, keeps the version table in
DB_SCHEMA and compares the models of DB_METADATA. Each test gets an empty database on the
session cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.config import Config
from pytest_alembic import MigrationContext, runner
from pytest_alembic.config import Config as PytestAlembicConfig
from pytest_alembic.plugin.error import AlembicTestFailure
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Engine, text

from dbtasks import pg
from dbtasks.adapter.workspace import SETTINGS_KEY
from dbtasks.settings import Settings, load_settings
from tests.support import REPO, scratch_grant

pytestmark = [pytest.mark.adoption, pytest.mark.integration]

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


@pytest.fixture
def mindmirror_db(cluster: Settings) -> Iterator[Settings]:
    """The repository's settings, on an empty database of the session cluster."""
    name = f"alembic_{uuid.uuid4().hex[:10]}"
    ep = cluster.endpoint
    env = {"DB_PORT": str(ep.port), "DB_PASS": ep.password, "DB_NAME": name}
    with pg.maintenance(ep) as cur:
        pg.create_database(cur, name, scratch_grant(cluster, name))
        try:
            yield load_settings(environ=env, root=REPO)
        finally:
            pg.drop_database(cur, name, scratch_grant(cluster, name))


@pytest.fixture
def alembic_config(mindmirror_db: Settings) -> Config:
    """The repository's alembic.ini; the runtime reads these settings, not the process's."""
    config = Config(str(REPO / "alembic.ini"))
    config.attributes[SETTINGS_KEY] = mindmirror_db
    return config


@pytest.fixture
def alembic_engine(mindmirror_db: Settings) -> Iterator[Engine]:
    engine = pg.engine(mindmirror_db.endpoint)
    try:
        yield engine
    finally:
        engine.dispose()


def test_the_runtime_keeps_the_history_in_db_schema(alembic_runner: MigrationContext) -> None:
    alembic_runner.migrate_up_to("heads", return_current=False)
    engine = alembic_runner.connection_executor.connection
    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT to_regclass('mindmirror.alembic_version')")).scalar()
        assert found is not None
        assert conn.execute(text("SELECT to_regclass('public.alembic_version')")).scalar() is None


def test_models_out_of_step_with_the_history_fail(
    mindmirror_db: Settings, alembic_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The models check can fail: a model the history never created is reported."""
    module = f"drifted_{uuid.uuid4().hex[:8]}"
    drifted = (REPO / "src" / "mindmirror" / "models.py").read_text()
    drifted += '\n\nclass Drift(Base):\n    __tablename__ = "drift"\n'
    drifted += "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    (tmp_path / f"{module}.py").write_text(drifted)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = Config(str(REPO / "alembic.ini"))
    config.attributes[SETTINGS_KEY] = replace(mindmirror_db, metadata=f"{module}:Base.metadata")
    with (
        runner(PytestAlembicConfig.from_raw_config(config), alembic_engine) as context,
        pytest.raises(AlembicTestFailure) as failure,
    ):
        test_model_definitions_match_ddl(context)
    assert "drift" in str(failure.value)
