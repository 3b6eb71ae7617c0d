"""Import Alembic without the parts a Postgres migration never runs.

Importing Alembic costs about a quarter of a second, and two pieces of it do nothing for
us: SQLAlchemy's postgresql package imports its asyncpg driver module (which imports
asyncio) only to register it, and Mako's exceptions module loads Pygments to colour HTML
tracebacks that Alembic never renders. Together they are ~55 ms of every `db.upgrade`.

`install()` puts a finder first on `sys.meta_path` that changes only how those modules
load, never what they are: the asyncpg dialect is loaded on first attribute access
(`importlib.util.LazyLoader`), so a project on asyncpg still gets it the moment it is
used; and while `mako.exceptions` runs its module body, `mako.ext.pygmentplugin` is
reported missing, so Mako takes the branch it takes where Pygments is not installed.
Afterwards the plugin imports normally for anyone who asks.

The top-level `alembic` and `sqlalchemy` packages load with the cyclic garbage collector
paused (their import makes ~50,000 objects and no garbage: ~130 collections, ~14 ms),
and what they made is then frozen out of later collections: it lives as long as the
process does, and every full collection during a long upgrade would walk it again.
"""

from __future__ import annotations

import gc
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

LAZY = frozenset({"sqlalchemy.dialects.postgresql.asyncpg"})
WITHOUT_PYGMENTS = "mako.exceptions"
UNCOLLECTED = frozenset({"alembic", "sqlalchemy"})
PYGMENTS_PLUGIN = "mako.ext.pygmentplugin"


class _Wrapped(importlib.abc.Loader):
    """A module's own loader, with something around the run of its body."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)


class _PlainMako(_Wrapped):
    """Runs `mako.exceptions` as if Mako's Pygments plugin were not installed."""

    def exec_module(self, module: ModuleType) -> None:
        present = PYGMENTS_PLUGIN in sys.modules
        if not present:
            sys.modules[PYGMENTS_PLUGIN] = None  # type: ignore[assignment]  # "not installed"
        try:
            self._loader.exec_module(module)
        finally:
            if not present and sys.modules.get(PYGMENTS_PLUGIN, ModuleType("x")) is None:
                del sys.modules[PYGMENTS_PLUGIN]


class _Uncollected(_Wrapped):
    """Runs a package's import (and all it imports) without cyclic collections."""

    def exec_module(self, module: ModuleType) -> None:
        paused = gc.isenabled()
        gc.disable()
        try:
            self._loader.exec_module(module)
        finally:
            if paused:
                gc.enable()
                gc.freeze()


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in LAZY and fullname not in UNCOLLECTED and fullname != WITHOUT_PYGMENTS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None  # not a plain source module: let the normal machinery handle it
        if fullname in LAZY:
            spec.loader = importlib.util.LazyLoader(spec.loader)
        elif fullname in UNCOLLECTED:
            spec.loader = _Uncollected(spec.loader)
        else:
            spec.loader = _PlainMako(spec.loader)
        return spec


_FINDER = _Finder()


def install() -> None:
    """Idempotent; a no-op for modules that are already imported."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
