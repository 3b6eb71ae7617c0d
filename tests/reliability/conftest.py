"""Reliability fixtures: scratch projects with their own database on the session cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster)
