"""The generated password of the local clusters dbtasks makes.

A well-known password on a local cluster lets any user of the machine in over TCP, so
when `DB_PASS` is unset a new cluster gets a random one. It is kept in `.dbtasks/password`
(mode 0600, never followed through a symlink), every command reads it from there, and it is
shown only on request (`inv stack.status --show-password`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dbtasks.errors import ConfigError

# Clusters made before passwords were generated were created with this one.
LEGACY_DEFAULT = "postgres"


def password_file(root: Path) -> Path:
    return root / ".dbtasks" / "password"


def local_password(root: Path, data_dir: Path) -> str:
    """The password of the project's local cluster, generated the first time."""
    path = password_file(root)
    existing = _read(path)
    if existing is not None:
        return existing
    if (data_dir / "PG_VERSION").exists():
        return LEGACY_DEFAULT
    return _create(path)


def _read(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError:
        raise ConfigError(
            f"{path} is not a regular file (a symlink?)", "remove it; a new one is generated"
        ) from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        return handle.read().strip("\n")


def _create(path: Path) -> str:
    # Others may pass through the folder (the server account must reach the native data
    # directory inside it) but not list it; the file itself is 0600.
    path.parent.mkdir(mode=0o711, parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # a parallel command wrote it first: use theirs
        return _read(path) or password
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    return password
