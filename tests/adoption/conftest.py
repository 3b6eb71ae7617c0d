"""Adoption fixtures: databases on the session cluster, dropped when a module is done."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dbtasks.settings import Settings
from tests.adoption.harness import Databases


@pytest.fixture(scope="module")
def databases(cluster: Settings) -> Iterator[Databases]:
    made = Databases(cluster)
    try:
        yield made
    finally:
        made.drop_all()
