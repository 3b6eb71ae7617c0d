"""Fixtures: one real Postgres cluster for the session, started by the native backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dbtasks.console import Console
from dbtasks.settings import Settings
from dbtasks.stack.native import NativeStack
from tests.support import make_settings, scratch_dir


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
        stack.destroy()


@pytest.fixture
def scratch() -> Iterator[Path]:
    with scratch_dir("test") as root:
        yield root
