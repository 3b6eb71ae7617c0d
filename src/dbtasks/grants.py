"""Grants: what one effect may do, issued by `dbtasks.guard` alone and checked by the
primitive that does it, against the connection it is about to use.

A grant names an intent and a target: a server, one database on it (or every database:
the stack's own lifecycle) and optionally some schemas of it. `require` refuses (exit 4)
an effect outside it: another intent, another server, another database, another schema.
What is checked is what is connected to: the server and database come from the live
connection (libpq's own record of it), not from the settings that opened it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import log
from dbtasks.errors import Refused

if TYPE_CHECKING:
    from dbtasks.guard import Intent

logger = logging.getLogger("dbtasks.guard")
_SEAL = object()  # only `issue` has it: no other code can make a Grant


@dataclass(frozen=True)
class Target:
    """A server; on it one database (None: all of them); in it some schemas (None: all)."""

    host: str
    port: int
    database: str | None
    schemas: tuple[str, ...] | None = None

    def describe(self) -> str:
        where = f"{self.host}:{self.port}"
        if self.database is None:
            return f"every database on {where}"
        inside = f" (schemas {', '.join(self.schemas)})" if self.schemas is not None else ""
        return f"database {self.database!r}{inside} on {where}"


class Grant:
    """Permission for `intent`'s effects on `target`, for the action the guard allowed."""

    __slots__ = ("action", "intent", "target")

    def __init__(self, intent: Intent, target: Target, action: str, seal: object) -> None:
        if seal is not _SEAL:
            raise TypeError("grants are issued by dbtasks.guard only")
        self.intent = intent
        self.target = target
        self.action = action

    def __repr__(self) -> str:
        return f"Grant({self.intent.value} {self.target.describe()})"

    def require(
        self, intent: Intent, where: Any, *, database: str | None = None, schema: str | None = None
    ) -> None:
        """Refuse unless this grant covers `intent` on the connection `where` (a psycopg2
        connection or cursor, or a SQLAlchemy connection): on its server, and on
        `database` (default: the one it is connected to) and `schema`."""
        host, port, connected = server_of(where)
        self.require_server(intent, host, port, database or connected, schema)

    def require_server(
        self,
        intent: Intent,
        host: str,
        port: int,
        database: str | None = None,
        schema: str | None = None,
    ) -> None:
        """The same check, for a target named rather than connected to (None: the server)."""
        t = self.target
        problem = None
        if not self.intent.covers(intent):
            problem = f"it was granted {self.intent.value}, not {intent.value}"
        elif (host, int(port)) != (t.host, t.port):
            problem = f"it was granted {t.describe()}, not {host}:{port}"
        elif t.database is not None and database != t.database:
            problem = f"it was granted {t.describe()}, not {_named(database)}"
        elif t.schemas is not None and schema is not None and schema not in t.schemas:
            problem = f"it was granted {t.describe()}, not schema {schema!r}"
        if problem is None:
            return
        log.event(
            logger, "guard.refused", f"no grant: {problem}", logging.ERROR, intent=intent.value
        )
        raise Refused(
            f"refusing to {intent.value} {_named(database)}: {problem} (to {self.action})",
            "this is a defect in how the command was composed: please report it",
        )


def _named(database: str | None) -> str:
    return "every database" if database is None else f"database {database!r}"


class ScratchSpace:
    """Scratch databases on one server (snapshots, test and validation databases): DESTROY
    on any database there but the ones `reserved` (the configured one, the templates, the
    maintenance database). The guard checked the server once, when it issued the space."""

    __slots__ = ("action", "host", "port", "reserved")

    def __init__(
        self, host: str, port: int, reserved: tuple[str, ...], action: str, seal: object
    ) -> None:
        if seal is not _SEAL:
            raise TypeError("grants are issued by dbtasks.guard only")
        self.host, self.port, self.reserved, self.action = host, port, reserved, action

    def grant(self, name: str) -> Grant:
        """DESTROY on scratch database `name`; a reserved name is refused."""
        from dbtasks.guard import Intent

        if name in self.reserved:
            log.event(logger, "guard.refused", f"{name!r} is not a scratch database", logging.ERROR)
            raise Refused(
                f"refusing to {self.action}: {name!r} is not a scratch database",
                "scratch databases have derived names of their own",
            )
        return Grant(Intent.DESTROY, Target(self.host, self.port, name), self.action, _SEAL)


def issue(intent: Intent, target: Target, action: str) -> Grant:
    """For `dbtasks.guard`, once its rules have passed."""
    return Grant(intent, target, action, _SEAL)


def server_of(where: Any) -> tuple[str, int, str]:
    """(host, port, database) of a live connection, as libpq records it."""
    raw = getattr(where, "connection", where)  # a cursor's connection, or SQLAlchemy's
    raw = getattr(raw, "dbapi_connection", raw)
    info = raw.info
    return str(info.host), int(info.port), str(info.dbname)


class FileGrant:
    """Permission to write files inside `folders` (their real paths), nothing else; `hint`
    says what to do instead."""

    __slots__ = ("action", "folders", "hint")

    def __init__(
        self, folders: tuple[Path, ...], action: str, seal: object, hint: str | None = None
    ) -> None:
        if seal is not _SEAL:
            raise TypeError("grants are issued by dbtasks.guard only")
        self.folders = tuple(Path(os.path.realpath(f)) for f in folders)
        self.action = action
        self.hint = hint or "check the version locations in the Alembic configuration"

    def require(self, path: str | Path) -> Path:
        """The real path of `path`, refused unless it lies in one of the folders."""
        real = Path(os.path.realpath(path))
        if any(real.is_relative_to(folder) for folder in self.folders):
            return real
        log.event(logger, "guard.refused", f"no grant to write {path}", logging.ERROR)
        raise Refused(
            f"refusing to write {path}: it is outside {', '.join(map(str, self.folders))}, "
            f"the only place to {self.action}",
            self.hint,
        )


def issue_space(host: str, port: int, reserved: tuple[str, ...], action: str) -> ScratchSpace:
    """For `dbtasks.guard`, once its rules have passed for the server."""
    return ScratchSpace(host, port, reserved, action, _SEAL)


def issue_files(folders: tuple[Path, ...], action: str, hint: str | None = None) -> FileGrant:
    """For `dbtasks.guard`."""
    return FileGrant(folders, action, _SEAL, hint)
