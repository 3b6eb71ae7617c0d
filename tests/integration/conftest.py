"""Integration fixtures: scratch Alembic projects on the session cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    """A small-models project with its own database on the session cluster."""
    return make_project(tmp_path, cluster)


@pytest.fixture
def mindmirror(tmp_path: Path, cluster: Settings) -> ScratchProject:
    """A copy of the repository's MindMirror models and migrations, with its own database."""
    return make_project(tmp_path, cluster, with_mindmirror=True)
