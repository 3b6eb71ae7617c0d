"""Seeds: ordered SQL files and an optional Python callable, in one transaction.

Statements are run one by one so that a failure names its file and line; the whole seed
is rolled back on any failure.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import log
from dbtasks.errors import ConfigError, DbTasksError
from dbtasks.guard import Intent
from dbtasks.workflow import Flow, Work

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.migrations.lock import Held
    from dbtasks.settings import Settings

_DOLLAR_TAG = re.compile(r"\$[A-Za-z_0-9]*\$")
_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


class SeedFailed(DbTasksError):
    """A seed statement failed; nothing of the seed was kept."""


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # 1-based line of the statement's first character in its file


def seed_files(settings: Settings, warn: Callable[[str], None] | None = None) -> list[Path]:
    """The configured seed files in order; globs expand sorted, explicit paths must exist."""
    root = settings.project_root
    files: list[Path] = []
    for pattern in settings.seeds:
        if any(ch in pattern for ch in "*?["):
            matched = sorted(p for p in root.glob(pattern) if p.is_file())
            if not matched and warn is not None:
                warn(f"DB_SEEDS pattern {pattern!r} matches no file")
            files += matched
        elif (root / pattern).is_file():
            files.append(root / pattern)
        else:
            raise ConfigError(f"DB_SEEDS names {pattern!r}, which does not exist")
    return files


def split_sql(text: str) -> list[Statement]:
    """Split on top-level semicolons, respecting quotes, comments and dollar quoting."""
    statements, start, i, n = [], 0, 0, len(text)
    while i < n:
        ch, two = text[i], text[i : i + 2]
        if two == "--":
            i = _skip_to(text, "\n", i)
        elif two == "/*":
            i = _skip_to(text, "*/", i + 2) + 1
        elif ch in "'\"":
            i = _skip_quoted(text, ch, i + 1)
        elif ch == "$" and (tag := _DOLLAR_TAG.match(text, i)):
            i = _skip_to(text, tag.group(), tag.end()) + len(tag.group()) - 1
        elif ch == ";":
            statements.append(_statement(text, start, i))
            start = i + 1
        i += 1
    statements.append(_statement(text, start, n))
    return [s for s in statements if s.sql]


def _skip_to(text: str, needle: str, i: int) -> int:
    found = text.find(needle, i)
    return len(text) if found < 0 else found


def _skip_quoted(text: str, quote: str, i: int) -> int:
    while i < len(text):
        if text[i] == quote:
            if text[i + 1 : i + 2] != quote:  # a doubled quote is an escaped quote
                return i
            i += 1
        i += 1
    return i


def _statement(text: str, start: int, end: int) -> Statement:
    """The chunk without leading comments, and the line where its real text starts."""
    chunk = text[start:end]
    match = _LEADING.match(chunk)
    skip = match.end() if match else 0
    return Statement(chunk[skip:].strip(), text.count("\n", 0, start + skip) + 1)


@dataclass(frozen=True)
class SeedPlan:
    files: tuple[str, ...]
    callable: str | None


class Seed(Flow[SeedPlan, list[str]]):
    """`inv db.seed`: every seed file (and the callable) in one transaction."""

    intent = Intent.WRITE
    action = "seed"

    def plan(self, work: Work) -> SeedPlan:
        root = work.settings.project_root
        files = seed_files(work.settings, warn=work.console.warn)
        return SeedPlan(tuple(str(p.relative_to(root)) for p in files), work.settings.seed_callable)

    def show(self, work: Work, plan: SeedPlan) -> bool:
        return bool(plan.files or plan.callable)

    def act(self, work: Work, plan: SeedPlan, held: Held | None) -> list[str]:
        return apply_seeds(work.settings, work.conn)

    def idle(self, work: Work, plan: SeedPlan) -> list[str]:
        return []


def apply_seeds(settings: Settings, connection: Connection) -> list[str]:
    """Run every seed in one transaction on `connection`; returns what ran."""
    from sqlalchemy import text

    ran: list[str] = []
    files = seed_files(settings)
    spec = settings.seed_callable
    callable_ = _load_callable(spec, settings.project_root) if spec else None
    with connection.begin():
        schema = connection.dialect.identifier_preparer.quote_schema(settings.schema)
        connection.execute(text(f"SET LOCAL search_path TO {schema}"))
        for path in files:
            _run_file(connection, path, settings.project_root)
            ran.append(str(path.relative_to(settings.project_root)))
        if callable_ is not None and spec:
            _run_callable(callable_, connection, spec)
            ran.append(spec)
    log.event(logging.getLogger("dbtasks.seed"), "seed.loaded", "seeded", files=ran)
    return ran


def _run_file(connection: Connection, path: Path, root: Path) -> None:
    for statement in split_sql(path.read_text(encoding="utf-8")):
        try:
            connection.exec_driver_sql(statement.sql)
        except Exception as exc:
            line = statement.line + _line_in_statement(exc, statement.sql)
            where = f"seed {path.relative_to(root)} line {line}"
            if type(getattr(exc, "orig", None)).__name__ == "UniqueViolation":
                raise SeedFailed(
                    f"{where}: its rows are already there ({_first_line(exc)}); nothing was seeded",
                    "the database is already seeded: `inv db.reset --yes` rebuilds and reseeds it",
                ) from exc
            raise SeedFailed(
                f"{where} failed: {_first_line(exc)}; the seed was rolled back",
                "fix the file and run `inv db.seed` again",
            ) from exc


def _line_in_statement(exc: Exception, sql: str) -> int:
    """Lines from the statement start to the error position, when Postgres gives one."""
    position = getattr(
        getattr(getattr(exc, "orig", None), "diag", None), "statement_position", None
    )
    return sql.count("\n", 0, int(position) - 1) if position else 0


def _first_line(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def _load_callable(spec: str, root: Path) -> Callable[[Connection], Any]:
    module_name, _, attr = spec.partition(":")
    try:
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"DB_SEED_CALLABLE={spec!r} cannot be loaded: {exc}") from None
    if not callable(target):
        raise ConfigError(f"DB_SEED_CALLABLE={spec!r} is not callable")
    return target  # type: ignore[no-any-return]


def _run_callable(target: Callable[[Connection], Any], connection: Connection, spec: str) -> None:
    try:
        target(connection)
    except DbTasksError:
        raise
    except Exception as exc:
        raise SeedFailed(
            f"seed {spec} failed: {_first_line(exc)}; the seed was rolled back",
            "fix it and run `inv db.seed` again",
        ) from exc


def iter_fingerprint_files(settings: Settings) -> Iterator[Path]:
    """Files whose content a snapshot depends on, besides the migrations: the seed files,
    and the seed callable's module, found the way Python imports it."""
    yield from seed_files(settings)
    if settings.seed_callable:
        module = settings.seed_callable.partition(":")[0]
        root = str(settings.project_root)
        if root not in sys.path:
            sys.path.insert(0, root)
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin or not Path(spec.origin).is_file():
            raise ConfigError(f"DB_SEED_CALLABLE={settings.seed_callable!r}: no module {module!r}")
        yield Path(spec.origin)
