"""Seeds: ordered SQL files and an optional Python callable, in one transaction.

Statements are run one by one so that a failure names its file and line; the whole seed
is rolled back on any failure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import log
from dbtasks.errors import ConfigError, DbTasksError, ExitCode, first_line
from dbtasks.guard import Intent

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.grants import Grant
    from dbtasks.settings import Settings
    from dbtasks.sqltext import Statement


class SeedFailed(DbTasksError):
    """A seed statement failed; nothing of the seed was kept."""


class SeedInterrupted(SeedFailed):
    """Ctrl-C cancelled the seed; nothing of it was kept."""

    exit_code = ExitCode.INTERRUPTED


def seed_files(settings: Settings, warn: Callable[[str], None] | None = None) -> list[Path]:
    """The configured seed files in order; globs expand sorted, explicit paths must exist.

    Every one lies inside the project and outside any data directory: the server account
    can plant links in a data directory, and dbtasks often runs as root.
    """
    root = Path(os.path.realpath(settings.project_root))
    files: list[Path] = []
    for pattern in settings.seeds:
        relative = _inside(root, pattern)
        if any(ch in pattern for ch in "*?["):
            matched = sorted(p for p in root.glob(relative) if _usable(settings, root, p))
            if not matched and warn is not None:
                warn(f"DB_SEEDS pattern {pattern!r} matches no file")
            files += matched
        elif (root / relative).is_file():
            files.append(_checked(settings, root, root / relative))
        else:
            raise ConfigError(f"DB_SEEDS names {pattern!r}, which does not exist")
    return files


def _inside(root: Path, pattern: str) -> str:
    """`pattern` relative to the project root; one that reaches outside it is refused."""
    path = Path(pattern).expanduser()
    if path.is_absolute():
        if not path.is_relative_to(root):
            raise _outside(pattern)
        path = path.relative_to(root)
    if not Path(os.path.normpath(root / path)).is_relative_to(root):
        raise _outside(pattern)
    return str(path)


def _outside(pattern: str) -> ConfigError:
    return ConfigError(
        f"DB_SEEDS names {pattern!r}, outside the project", "keep seed files in the project"
    )


def _usable(settings: Settings, root: Path, path: Path) -> bool:
    """A glob's match: a file, never in a data directory or dbtasks' own folder."""
    if not path.is_file() or _in_private_place(settings, root, path):
        return False
    _checked(settings, root, path)
    return True


def _in_private_place(settings: Settings, root: Path, path: Path) -> bool:
    places = (Path(os.path.realpath(settings.data_dir)), root / ".dbtasks")
    return any(path.is_relative_to(place) for place in places)


def _checked(settings: Settings, root: Path, path: Path) -> Path:
    """`path`, refused when it leads (through a link) outside the project or into a data
    directory."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(root) or _in_private_place(settings, root, real):
        raise ConfigError(
            f"seed file {path.relative_to(root)} leads outside the project or into a data "
            "directory",
            "keep seed files (and what they link to) in the project",
        )
    return path


def read_seed(path: Path, root: Path) -> str:
    """A seed file's text; as root, never through a link (a link planted by another user)."""
    flags = os.O_RDONLY | os.O_CLOEXEC | (os.O_NOFOLLOW if os.geteuid() == 0 else 0)
    name = path.relative_to(root) if path.is_relative_to(root) else path
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ConfigError(f"seed file {name} cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"seed file {name} is not UTF-8 text (byte {exc.start})") from None


def split_sql(text: str) -> list[Statement]:
    """The statements of a seed file, as Postgres' parser cuts them."""
    from dbtasks.sqltext import split_sql as split

    return split(text)


def apply_seeds(
    settings: Settings, connection: Connection, grant: Grant, again: str = "inv db.seed"
) -> list[str]:
    """Run every seed in one transaction on `connection`; returns what ran. Rows are
    written: WRITE on the connection's database. A failure's hint runs `again`."""
    from psycopg2 import sql

    from dbtasks import baseline, pg

    grant.require(Intent.WRITE, connection)
    pg.interrupted.clear()
    ran: list[str] = []
    root = settings.project_root
    files = [(path, _statements(path, root, again)) for path in seed_files(settings)]
    spec = settings.seed_callable
    callable_ = _load_callable(spec, root) if spec else None
    with connection.begin():
        with pg.driver_cursor(connection) as cur:  # no placeholder parsing of the name
            names = sql.SQL(", ").join(map(sql.Identifier, baseline.search_path(settings)))
            cur.execute(sql.SQL("SET LOCAL search_path TO {}").format(names))
        for path, statements in files:
            _run_file(connection, path, root, statements, again)
            ran.append(str(path.relative_to(root)))
        if callable_ is not None and spec:
            _run_callable(callable_, connection, spec, again)
            ran.append(spec)
    log.event(logging.getLogger("dbtasks.seed"), "seed.loaded", "seeded", files=ran)
    return ran


def _statements(path: Path, root: Path, again: str) -> list[Statement]:
    """A seed file's statements, read and parsed before anything runs."""
    from dbtasks.sqltext import SqlSyntaxError

    try:
        return split_sql(read_seed(path, root))
    except SqlSyntaxError as exc:
        where = f"seed {path.relative_to(root)} line {exc.line}"
        raise SeedFailed(
            f"{where}: {exc.message}; nothing was seeded", f"fix the file and run `{again}`"
        ) from None


def _run_file(
    connection: Connection, path: Path, root: Path, statements: list[Statement], again: str
) -> None:
    from dbtasks import pg

    for statement in statements:
        try:
            connection.exec_driver_sql(statement.sql)
        except Exception as exc:
            line = statement.line + _line_in_statement(exc, statement.sql)
            where = f"seed {path.relative_to(root)} line {line}"
            if pg.interrupted.is_set():
                raise SeedInterrupted(
                    f"interrupted: {where} was cancelled; the seed was rolled back"
                ) from None
            if type(getattr(exc, "orig", None)).__name__ == "UniqueViolation":
                raise SeedFailed(
                    f"{where}: its rows are already there ({first_line(exc)}); nothing was seeded",
                    "the database is already seeded: `inv db.reset --yes` rebuilds and reseeds it",
                ) from exc
            raise SeedFailed(
                f"{where} failed: {first_line(exc)}; the seed was rolled back",
                f"fix the file and run `{again}`",
            ) from exc


def _line_in_statement(exc: Exception, sql: str) -> int:
    """Lines from the statement start to the error position, when Postgres gives one."""
    position = getattr(
        getattr(getattr(exc, "orig", None), "diag", None), "statement_position", None
    )
    return sql.count("\n", 0, int(position) - 1) if position else 0


def _load_callable(spec: str, root: Path) -> Callable[[Connection], Any]:
    from dbtasks import project_code

    target = project_code.load(spec, "DB_SEED_CALLABLE", root, "fix it or DB_SEED_CALLABLE")
    if not callable(target):
        raise ConfigError(f"DB_SEED_CALLABLE={spec!r} is not callable")
    return target  # type: ignore[no-any-return]


def _run_callable(
    target: Callable[[Connection], Any], connection: Connection, spec: str, again: str
) -> None:
    from dbtasks import pg

    try:
        target(connection)
    except DbTasksError:
        raise
    except KeyboardInterrupt:
        raise SeedInterrupted(f"interrupted: seed {spec} was cancelled and rolled back") from None
    except Exception as exc:
        if pg.interrupted.is_set():
            raise SeedInterrupted(
                f"interrupted: seed {spec} was cancelled and rolled back"
            ) from None
        raise SeedFailed(
            f"seed {spec} failed: {first_line(exc)}; the seed was rolled back",
            f"fix it and run `{again}`",
        ) from exc


def iter_fingerprint_files(settings: Settings) -> Iterator[Path]:
    """Files whose content a snapshot depends on, besides the migrations: the seed files,
    and the seed callable's module, found the way Python imports it."""
    from dbtasks import project_code

    yield from seed_files(settings)
    if settings.seed_callable:
        found = project_code.module_file(settings.seed_callable, settings.project_root)
        if found is None:
            module = settings.seed_callable.partition(":")[0]
            raise ConfigError(f"DB_SEED_CALLABLE={settings.seed_callable!r}: no module {module!r}")
        yield found
