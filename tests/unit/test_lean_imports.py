"""Alembic imported through the adapter skips what Postgres migrations never run, and
loses nothing: each skipped piece still works the moment someone asks for it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import dbtasks.adapter
import alembic.config, alembic.runtime.migration, alembic.operations
import sqlalchemy.dialects.postgresql as pg
print("pygments" in sys.modules)
print(type(sys.modules["sqlalchemy.dialects.postgresql.asyncpg"]).__name__)
import mako.exceptions
print(mako.exceptions.pygments_html_formatter is None)
from sqlalchemy.dialects.postgresql.asyncpg import dialect
print(dialect.driver)
from mako.ext.pygmentplugin import pygments_html_formatter
print(pygments_html_formatter is not None)
from sqlalchemy.dialects import registry
print(registry.load("postgresql.asyncpg").driver)
"""


def _probe() -> list[str]:
    # A fresh interpreter: this test process may have imported both long ago.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_alembic_loads_without_pygments_or_the_asyncpg_dialect() -> None:
    pygments, lazy_type, plain, *_ = _probe()
    assert pygments == "False"
    assert lazy_type == "_LazyModule"
    assert plain == "True"


def test_what_was_skipped_still_loads_when_asked_for() -> None:
    *_, driver, plugin, engine_driver = _probe()
    assert driver == "asyncpg"
    assert plugin == "True"
    assert engine_driver == "asyncpg"


COLLECTOR = """
import gc, sys
{before}
import dbtasks.adapter
import alembic.config
print(gc.isenabled(), gc.get_freeze_count() > 0, gc.get_count()[2])
"""


def _collector(before: str = "") -> list[str]:
    code = COLLECTOR.format(before=before)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_alembic_loads_without_collections_and_its_objects_are_frozen() -> None:
    """No full collection ran during the import, the collector is on again after it, and
    what the import made is out of every later collection's way."""
    enabled, frozen, _ = _collector()
    assert (enabled, frozen) == ("True", "True")


def test_a_collector_turned_off_by_the_caller_stays_off_and_nothing_is_frozen() -> None:
    enabled, frozen, _ = _collector("gc.disable()")
    assert (enabled, frozen) == ("False", "False")
