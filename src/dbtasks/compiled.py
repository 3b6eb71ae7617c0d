"""dbtasks' own modules compile once, like the revision files (`adapter.bytecode`).

Invoke turns bytecode writing off for everything a task imports (`sys.dont_write_bytecode`,
unless `--write-pyc`), and so does `PYTHONDONTWRITEBYTECODE=1`: a dbtasks that has no
.pyc files beside its sources (an editable install, a checkout on `sys.path`) would then
compile the ~70 modules of a `db.upgrade` on every command, about 35 ms. Where Python has
no .pyc of its own for a dbtasks module, its bytecode is kept under the user's cache
directory instead, as a hash-checked .pyc: it is used only while it was compiled from the
source's exact bytes, so an edit is never missed. An installed dbtasks, whose .pyc files
pip wrote, is imported as Python always imports it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import marshal
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from types import CodeType, ModuleType

PACKAGE = "dbtasks."
_HASH_CHECKED = (0b11).to_bytes(4, "little")  # PEP 552 flags: hash-based, checked


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "dbtasks", "pycache")


def cached_path(source: str) -> Path:
    """Where a source file's bytecode is kept: its absolute path mirrored under the cache."""
    parts = Path(os.path.abspath(source)).parts[1:]
    return cache_root().joinpath(*parts).with_suffix(f".{sys.implementation.cache_tag}.pyc")


class _CachedSourceLoader(importlib.machinery.SourceFileLoader):
    """A source loader whose bytecode lives in our cache, checked by the source's hash."""

    def get_code(self, fullname: str) -> CodeType:
        source = self.get_filename(fullname)
        data = self.get_data(source)
        key = importlib.util.MAGIC_NUMBER + _HASH_CHECKED + importlib.util.source_hash(data)
        where = cached_path(source)
        code = _read(where, key)
        if code is None:
            code = self.source_to_code(data, source)
            _write(where, key + marshal.dumps(code))
        return code


def _read(where: Path, header: bytes) -> CodeType | None:
    try:
        blob = where.read_bytes()
        # As trusted as a .pyc: it is the user's own cache of the user's own dbtasks.
        code = marshal.loads(blob[16:]) if blob[:16] == header else None  # noqa: S302
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _write(where: Path, blob: bytes) -> None:
    """Atomically (a parallel command may read it meanwhile); a cache that cannot be
    written only costs speed."""
    with suppress(OSError):
        where.parent.mkdir(parents=True, exist_ok=True)
        partial = where.with_name(f"{where.name}.{os.getpid()}.tmp")
        partial.write_bytes(blob)
        os.replace(partial, where)


class _Finder:
    """Finds dbtasks' modules as the path finder does; swaps in the cached loader only for
    a plain source module that has no .pyc of Python's own."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PACKAGE):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if spec is None or type(loader) is not importlib.machinery.SourceFileLoader:
            return spec
        assert spec.origin is not None
        if not os.path.exists(importlib.util.cache_from_source(spec.origin)):
            spec.loader = _CachedSourceLoader(fullname, spec.origin)
        return spec


_FINDER = _Finder()


def install() -> None:
    """Idempotent; modules already imported are not affected."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
