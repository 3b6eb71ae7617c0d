"""What `db.health` checks beyond a real query: the server version, the extensions, the
revision the database is at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.adapter.errors import RevisionError

if TYPE_CHECKING:
    from dbtasks.workflow import Work


@dataclass(frozen=True)
class Readiness:
    """What `db.health` checks beyond a real query: version, extensions, revision."""

    server_major: str
    expected_major: str | None
    missing_extensions: tuple[str, ...]
    at_head: bool | None  # None: the project has no Alembic history to compare with
    history_error: str | None = None  # why the history could not be read, if it could not

    @property
    def problems(self) -> list[str]:
        found = []
        if self.expected_major and self.server_major != self.expected_major:
            found.append(
                f"the server is PostgreSQL {self.server_major}, DB_SERVER_VERSION expects "
                f"{self.expected_major}"
            )
        if self.missing_extensions:
            found.append(f"required extensions missing: {', '.join(self.missing_extensions)}")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "server_major": self.server_major,
            "expected_major": self.expected_major,
            "missing_extensions": list(self.missing_extensions),
            "at_head": self.at_head,
            "history_error": self.history_error,
            "problems": self.problems,
        }


def readiness(work: Work, server_version: str) -> Readiness:
    """The server's version and extensions against the settings, and whether the database
    is at head (unknown when a revision file is broken: that is no unhealthy server)."""
    from dbtasks.adapter import config_files

    settings = work.settings
    work.cur.execute("SELECT extname FROM pg_extension")
    installed = {str(row[0]) for row in work.cur.fetchall()}
    missing = tuple(e for e in settings.extensions if e not in installed)
    at_head, unreadable = None, None
    if config_files.find(settings) is not None:
        try:
            at_head = set(work.current(check=False)) == set(work.graph.heads)
        except RevisionError as exc:  # a broken revision file is not an unhealthy server
            unreadable = exc.render()
    major = server_version.split(".")[0]
    return Readiness(major, settings.server_version, missing, at_head, unreadable)
