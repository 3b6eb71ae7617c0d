"""What dbtasks may touch in a data directory, each rule in one function.

- `open_in`: nothing in the data directory is followed through a link. The directory
  belongs to the server account, so whoever controls that account can plant links in it;
  dbtasks often runs as root, and following one would read or change any file.
- `inspect`: whether a directory holds a cluster dbtasks made (the marker file).
- `check_removable`: what `stack.down --destroy` may delete.
"""

from __future__ import annotations

import errno
import os
import pwd
import stat
from enum import Enum
from pathlib import Path
from typing import TextIO

from dbtasks.errors import Refused

MARKER = "dbtasks.cluster"
MARKER_TEXT = (
    "dbtasks created this PostgreSQL cluster; "
    "`inv stack.down --destroy` may delete this directory.\n"
)
# Older dbtasks wrote its settings to dbtasks.conf and included it from postgresql.conf:
# that line identifies the clusters it made before the marker existed.
LEGACY_CONF = "dbtasks.conf"
LEGACY_INCLUDE = f"include_if_exists = '{LEGACY_CONF}'"
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


class Kind(Enum):
    """What a data directory holds."""

    MISSING = "missing"
    EMPTY = "empty"
    OURS = "a cluster dbtasks created"
    LEGACY = "a cluster an older dbtasks created"
    FOREIGN_CLUSTER = "a cluster dbtasks did not create"
    NOT_A_CLUSTER = "files but no cluster"


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


def inspect(data: Path) -> Kind:
    """What `data` holds, found without changing anything and without following links."""
    try:
        dirfd = open_in(data)
    except FileNotFoundError:
        return Kind.MISSING
    try:
        if not os.listdir(dirfd):
            return Kind.EMPTY
    finally:
        os.close(dirfd)
    if read_in(data, "PG_VERSION") is None:
        return Kind.NOT_A_CLUSTER
    if (read_in(data, MARKER) or "").startswith("dbtasks created"):
        return Kind.OURS
    conf = read_in(data, "postgresql.conf") or ""
    if any(line.strip() == LEGACY_INCLUDE for line in conf.splitlines()):
        return Kind.LEGACY
    return Kind.FOREIGN_CLUSTER


def mark(data: Path, owner: pwd.struct_passwd | None) -> None:
    """Record that dbtasks created (or adopted) the cluster in `data`."""
    fd = open_in(data, MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        if owner is not None:
            os.fchown(fd, owner.pw_uid, owner.pw_gid)
        handle.write(MARKER_TEXT)


def check_removable(data: Path, project_root: Path) -> Kind:
    """Refuse (exit 4) unless `data` is a real directory holding a cluster dbtasks made.

    Empty and missing directories pass too: removing them loses nothing.
    """
    if data.is_symlink():
        raise Refused(
            f"refusing to delete {data}: it is a symbolic link",
            "set DB_DATA_DIR to the cluster's real directory",
        )
    place = _protected_place(data, project_root)
    if place:
        raise Refused(
            f"refusing to delete {data}: it is {place}",
            "set DB_DATA_DIR to the cluster's own directory (default .dbtasks/pgdata)",
        )
    try:
        kind = inspect(data)
    except Refused as exc:
        raise Refused(f"refusing to delete {data}: {exc.message}", exc.hint) from None
    if kind in (Kind.FOREIGN_CLUSTER, Kind.NOT_A_CLUSTER):
        raise Refused(
            f"refusing to delete {data}: it holds {kind.value} (no PG_VERSION and {MARKER})",
            "check DB_DATA_DIR; delete the directory yourself if that is really meant",
        )
    return kind


def is_own_folder(data: Path, project_root: Path) -> bool:
    """Inside the project's `.dbtasks` folder, which dbtasks makes and nothing else uses."""
    own = Path(os.path.realpath(project_root)) / ".dbtasks"
    return Path(os.path.realpath(data)).is_relative_to(own)


def check_usable(data: Path, project_root: Path) -> None:
    """Refuse (exit 4) to make a cluster in a place that is never a data directory: `up`
    would take it over (chown it to the server account, chmod it 0700)."""
    place = _protected_place(data, project_root)
    if place:
        raise Refused(
            f"refusing to use {data} as a data directory: it is {place}",
            "set DB_DATA_DIR to a directory of its own (default .dbtasks/pgdata)",
        )


def _protected_place(data: Path, project_root: Path) -> str | None:
    """Which never-a-data-directory place `data` is, if it is one."""
    target = Path(os.path.realpath(data))
    root = Path(os.path.realpath(project_root))
    home = Path(os.path.realpath(os.path.expanduser("~")))
    places = [
        (target == Path("/"), "the filesystem root"),
        (target == home, "your home directory"),
        (target == root, "the project root"),
        (target in root.parents, "a parent of the project root"),
        (target in home.parents, "a parent of your home directory"),
    ]
    return next((name for hit, name in places if hit), None)
