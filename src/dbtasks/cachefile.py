"""Files under `.dbtasks/cache`: speed only, so one that cannot be read or written is
rebuilt or skipped, never an error."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read_json(path: Path) -> Any:
    """The cached value at `path`, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: Any) -> None:
    """Replace `path` with `data` as JSON (see `write_bytes`)."""
    write_bytes(path, json.dumps(data).encode())


def write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` atomically. The temporary file is created afresh and never through a
    link (a name planted in the cache folder is not followed, even as root)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except OSError:
        return  # the next command rebuilds; a name planted there stays untouched
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
