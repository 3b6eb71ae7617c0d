"""Fixtures: one real Postgres cluster for the session, started by the native backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dbtasks.console import Console
from dbtasks.settings import Settings, load_settings
from dbtasks.stack.native import NativeStack
from tests.support import REPO, destroy, make_settings, scratch_dir


@pytest.fixture(scope="session")
def cluster_root() -> Iterator[Path]:
    with scratch_dir("session") as root:
        yield root


@pytest.fixture(scope="session")
def cluster(cluster_root: Path) -> Iterator[Settings]:
    """Settings of a running native cluster on a free port, with a hostile password."""
    settings = make_settings(cluster_root)
    stack = NativeStack(settings)
    stack.up(Console())
    try:
        yield settings
    finally:
        destroy(stack)


@pytest.fixture(scope="session")
def dbtasks_settings(cluster: Settings) -> Settings:
    """Point the dbtasks pytest plugin at the repository's project on the session cluster."""
    ep = cluster.endpoint
    env = {
        "DB_PORT": str(ep.port),
        "DB_PASS": ep.password,
        "DB_NAME": "mindmirror_app_tests",
        "DB_DATA_DIR": str(cluster.data_dir),
    }
    return load_settings(environ=env, root=REPO)


@pytest.fixture
def scratch() -> Iterator[Path]:
    with scratch_dir("test") as root:
        yield root
