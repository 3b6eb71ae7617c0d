"""Connection URLs: parsing `DATABASE_URL`, building SQLAlchemy URLs, and the one masking rule.

SQLAlchemy is imported inside the functions that need it: `inv --list` and `inv stack.up`
must stay fast, and building Settings must not pay for a 0.3 s import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from dbtasks.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DRIVER = "postgresql+psycopg2"
_POSTGRES_SCHEMES = ("postgres", "postgresql")
# Greedy up to the last "@": a malformed URL may hold an unencoded "@" in its password.
_CREDENTIALS = re.compile(r"(?P<head>[a-z0-9+.-]+://[^:/@?#]*):.*@", re.IGNORECASE)
MASK = "***"


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect; the password lives here and nowhere else."""

    host: str
    port: int
    user: str
    password: str
    database: str
    query: dict[str, str] = field(default_factory=dict)

    def sqlalchemy_url(self, database: str | None = None) -> URL:
        """The URL for SQLAlchemy, built with `URL.create` so any password survives."""
        from sqlalchemy.engine import URL

        return URL.create(
            DRIVER,
            username=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            database=database or self.database,
            query=self.query,
        )

    def connect_kwargs(self, database: str | None = None) -> dict[str, Any]:
        """Keyword arguments for `psycopg2.connect`: no URL string, so nothing to escape."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": database or self.database,
            **self.query,
        }

    def masked(self) -> str:
        """The only form in which a URL is ever shown."""
        query = "&".join(f"{k}={quote(v)}" for k, v in sorted(self.query.items()))
        host = f"[{self.host}]" if ":" in self.host else self.host
        text = f"postgresql://{quote(self.user, safe='')}:{MASK}@{host}:{self.port}/{self.database}"
        return f"{text}?{query}" if query else text


def mask_text(text: str) -> str:
    """Mask credentials in free text that may hold a URL (e.g. a malformed `DATABASE_URL`)."""
    return _CREDENTIALS.sub(rf"\g<head>:{MASK}@", text)


def parse_database_url(text: str) -> Endpoint:
    """Parse `DATABASE_URL` into an Endpoint; any defect is a ConfigError showing it masked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    def bad(why: str) -> ConfigError:
        return ConfigError(f"DATABASE_URL={mask_text(text)!r} is malformed: {why}")

    try:
        url = make_url(text)
        port = url.port
    except (ArgumentError, ValueError) as exc:
        raise bad("expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME") from exc
    if url.get_backend_name() not in _POSTGRES_SCHEMES:
        raise bad(f"the scheme must be postgresql://, not {url.drivername}://")
    if not url.host:
        raise bad("it names no host")
    if not url.database:
        raise bad("it names no database")
    if port is not None and not 0 < port < 65536:
        raise bad("the port must be between 1 and 65535")
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    return Endpoint(
        host=url.host,
        port=port or 5432,
        user=url.username or "postgres",
        password=url.password or "",
        database=url.database,
        query=query,
    )


def is_loopback(host: str) -> bool:
    """True for hosts that can only be this machine."""
    return host in ("localhost", "::1") or host.startswith("127.")
