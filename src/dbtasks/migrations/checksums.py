"""What a revision file runs, as a checksum: `ast1:<code>:<bytes>`.

The code part hashes the file's syntax tree without docstrings, comments or dbtasks'
acknowledgements (`dbtasks_allow`, `dbtasks_irreversible`): rewording a message or
acknowledging a lint rule is no edit. The bytes part answers the common case, an untouched
file, without parsing it. Parsing costs a millisecond or two a file, so the code part is
computed once per file content and kept under `.dbtasks/cache` (a cache that cannot be
written only costs time).
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Any

from dbtasks import cachefile

# Markers a revision file may declare for dbtasks' checks: not part of what runs.
_ACKNOWLEDGEMENTS = ("dbtasks_allow", "dbtasks_irreversible")
PREFIX = "ast1:"


class Checksums:
    """The checksums of one command's revision files, remembered by content."""

    def __init__(self, root: Path) -> None:
        self.path = root / ".dbtasks" / "cache" / "code-hashes.json"
        self.known: dict[str, str] = _load(self.path)
        self.added = False

    def of(self, file: str | None, sha: str | None = None) -> str | None:
        """The checksum of `file`, or None when there is none to read. `sha`, the hash of
        its bytes when already known, spares reading a file whose code hash is known."""
        if not file:
            return None
        code = self.known.get(sha) if sha else None
        if sha and code:
            return f"{PREFIX}{code}:{sha}"
        try:
            data = Path(file).read_bytes()
        except OSError:
            return None
        raw = hashlib.sha256(data).hexdigest()
        code = self.known.get(raw)
        if code is None:
            code = self.known[raw] = code_hash(data)
            self.added = True
        return f"{PREFIX}{code}:{raw}"

    def save(self) -> None:
        if not self.added:
            return
        cachefile.write_json(self.path, self.known)


def _load(path: Path) -> dict[str, str]:
    found = cachefile.read_json(path)
    return found if isinstance(found, dict) else {}


def checksum(path: str) -> str:
    """One file's checksum, without a cache."""
    data = Path(path).read_bytes()
    return f"{PREFIX}{code_hash(data)}:{hashlib.sha256(data).hexdigest()}"


def raw_part(recorded: str) -> str:
    """The hash of the bytes a checksum was taken of (a checksum from before `ast1` is
    only that)."""
    return recorded.rsplit(":", 1)[-1] if recorded.startswith(PREFIX) else recorded


def unchanged(path: str, recorded: str) -> bool:
    """Whether the file still runs what it ran when `recorded` was taken. A checksum from
    before `ast1` covers the bytes only."""
    data = Path(path).read_bytes()
    raw = hashlib.sha256(data).hexdigest()
    if not recorded.startswith(PREFIX):
        return raw == recorded
    _, code, recorded_raw = recorded.split(":", 2)
    return raw == recorded_raw or code_hash(data) == code


def code_hash(data: bytes) -> str:
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return hashlib.sha256(data).hexdigest()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            del body[0]
    tree.body = [n for n in tree.body if not _acknowledges(n)]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def _is_docstring(node: Any) -> bool:
    value = getattr(node, "value", None)
    return isinstance(node, ast.Expr) and isinstance(getattr(value, "value", None), str)


def _acknowledges(node: Any) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return any(getattr(t, "id", None) in _ACKNOWLEDGEMENTS for t in targets)
