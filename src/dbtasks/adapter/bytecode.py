"""Revision files compile once, whatever the machine's bytecode setting.

Loading a history imports every revision file; with `PYTHONDONTWRITEBYTECODE=1` (or a
read-only checkout) Python compiles each of them again on every command. dbtasks keeps
their bytecode under `.dbtasks/pycache` instead, as hash-checked .pyc files: Python
validates them against the source's content on every import, so an edit is never missed,
even one inside the same second that keeps the file's size (which the usual
timestamp-checked .pyc files would miss). Nothing is written next to the sources.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import py_compile
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import CodeType, ModuleType

from dbtasks import cachefile


def cache_dir(root: Path) -> Path:
    return root / ".dbtasks" / "pycache"


@contextmanager
def reading(root: Path) -> Iterator[None]:
    """While revision files are imported, Python reads their bytecode from our cache and
    writes none of its own (its .pyc files would be checked by timestamp)."""
    saved = sys.pycache_prefix, sys.dont_write_bytecode
    sys.pycache_prefix, sys.dont_write_bytecode = str(cache_dir(root)), True
    try:
        yield
    finally:
        sys.pycache_prefix, sys.dont_write_bytecode = saved


def write_missing(root: Path, sources: Iterable[Path]) -> None:
    """Compile the revision files whose cached bytecode is missing or stale."""
    prefix = str(cache_dir(root))
    saved = sys.pycache_prefix
    sys.pycache_prefix = prefix
    try:
        for source in sources:
            target = importlib.util.cache_from_source(str(source))
            if not _current(source, Path(target)):
                with suppress(OSError, py_compile.PyCompileError):
                    py_compile.compile(
                        str(source),
                        cfile=target,
                        doraise=True,
                        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
                    )
    finally:
        sys.pycache_prefix = saved


def _current(source: Path, cached: Path) -> bool:
    """The cached .pyc was compiled from this very source (its header holds the hash)."""
    try:
        header = cached.read_bytes()[:16]
        data = source.read_bytes()
    except OSError:
        return False
    return len(header) == 16 and header[8:16] == importlib.util.source_hash(data)


def load_module(root: Path, path: Path) -> ModuleType:
    """Import one revision file as Alembic does (a module of its own, not in sys.modules),
    its code kept under `.dbtasks/pycache/code` by the hash of the file's bytes: a file
    seen before is neither compiled nor checked against a timestamp, and an edited one has
    another hash."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    cached = cache_dir(root) / "code" / f"{digest}.{sys.implementation.cache_tag}"
    code = _cached_code(cached)
    if code is None:
        code = compile(data, str(path), "exec", dont_inherit=True)
        cachefile.write_bytes(cached, marshal.dumps(code))
    spec = importlib.util.spec_from_file_location(re.sub(r"\W", "_", path.name), path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(code, module.__dict__)  # noqa: S102 - the project's own revision file, as import runs it
    return module


def _cached_code(cached: Path) -> CodeType | None:
    try:
        # As trusted as a .pyc: whoever can write .dbtasks/ can write the revision files.
        code = marshal.loads(cached.read_bytes())  # noqa: S302
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None
