"""What dbtasks may touch in a data directory.

`open_in` is the one rule: nothing in the data directory is followed through a link. The
directory belongs to the server account, so whoever controls that account can plant links
in it; dbtasks often runs as root, and following one would read or change any file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TextIO

from dbtasks.errors import Refused

# Older dbtasks wrote its settings to this file and included it from postgresql.conf.
LEGACY_CONF = "dbtasks.conf"
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def open_in(data: Path, name: str = "", flags: int = os.O_RDONLY, mode: int = 0o600) -> int:
    """A descriptor for the data directory (no `name`) or a plain file in it, never a link.

    Links, hard links (the server account may hard-link files it cannot read when
    fs.protected_hardlinks is off) and FIFOs are refused with exit 4.
    """
    try:
        dirfd = os.open(data, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    except OSError as exc:
        raise link_error(data, exc) from None
    if not name:
        return dirfd
    try:
        # O_NONBLOCK: opening a planted FIFO must not hang; it is refused below.
        fd = os.open(name, flags | _NOFOLLOW | os.O_NONBLOCK, mode, dir_fd=dirfd)
    except OSError as exc:
        raise link_error(data / name, exc) from None
    finally:
        os.close(dirfd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        raise Refused(
            f"{data / name} is not a plain file (a directory, hard link or FIFO)",
            "remove it: dbtasks touches only plain files in the data directory",
        )
    return fd


def link_error(path: Path, exc: OSError) -> Exception:
    """The refusal (exit 4) when `exc` came from meeting a link at `path`, else `exc`."""
    if exc.errno in (errno.ELOOP, errno.ENOTDIR) and path.is_symlink():
        return Refused(
            f"{path} is a symbolic link, and dbtasks follows none in a data directory",
            "remove the link, or set DB_DATA_DIR to the real directory",
        )
    return exc


def open_text(data: Path, name: str) -> TextIO | None:
    """A plain file in the data directory opened for reading, or None when there is none."""
    try:
        fd = open_in(data, name)
    except FileNotFoundError:
        return None
    return os.fdopen(fd, encoding="utf-8", errors="replace")


def read_in(data: Path, name: str) -> str | None:
    handle = open_text(data, name)
    if handle is None:
        return None
    with handle:
        return handle.read()


def remove_in(data: Path, name: str) -> bool:
    """Remove an entry of the data directory (a link itself, never its target); True if done."""
    dirfd = open_in(data)
    try:
        os.unlink(name, dir_fd=dirfd)
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        raise Refused(
            f"{data / name} is a directory where dbtasks expects a file",
            "remove it: dbtasks touches only plain files in the data directory",
        ) from None
    finally:
        os.close(dirfd)
    return True
