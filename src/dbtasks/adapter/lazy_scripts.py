"""Revision files imported when a command needs them, not the whole history every time.

When the graph cache is valid, the history's shape is known without importing any file.
Alembic's `ScriptDirectory` then gets a revision map built from the cached graph, whose
scripts import their file on first use (to run it, or to read a marker it declares): an
upgrade of one pending revision on a 500-revision history imports one file, where
Alembic alone imports all 500. Everything else Alembic does with the map (walks, heads,
branch points, the version table's bookkeeping) reads the same ids it would have read
from the files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from alembic.script import Script
from alembic.script.revision import Revision as AlembicRevision
from alembic.script.revision import RevisionMap

from dbtasks.adapter import bytecode
from dbtasks.adapter.errors import Files, RevisionError, loading

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

    from dbtasks.migrations.graph import Graph, Revision

# Imported only where Alembic already is (opening a workspace): never by `inv --list`.


class LazyScript(Script):
    """A Script whose module is imported on first use."""

    def __init__(self, revision: Revision, load: Callable[[Revision], ModuleType]) -> None:
        # Script's own constructor reads the module at once: Revision's takes the ids.
        down = revision.down[0] if len(revision.down) == 1 else revision.down or None
        AlembicRevision.__init__(
            self,
            revision.id,
            down,
            dependencies=revision.depends_on or None,
            branch_labels=revision.declared_labels or None,
        )
        self.path = revision.path
        self._revision, self._load = revision, load
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:  # type: ignore[override]
        if self._module is None:
            self._module = self._load(self._revision)
        return self._module


def install(script: ScriptDirectory, graph: Graph, files: Files, root: Path) -> None:
    """Give `script` a revision map of the cached graph, loading each file on demand."""

    def load(revision: Revision) -> ModuleType:
        return _load(revision, files, root)

    scripts = [LazyScript(r, load) for r in graph.revisions]
    script.revision_map = RevisionMap(lambda: iter(scripts))


def _load(revision: Revision, files: Files, root: Path) -> ModuleType:
    path = Path(revision.path)
    with loading(files):
        module = bytecode.load_module(root, path)
    if getattr(module, "revision", None) != revision.id:  # changed since it was read
        raise RevisionError(
            f"{files.rel(path)} no longer declares revision {revision.id}",
            "run the command again: it reads the history afresh",
        )
    return module
