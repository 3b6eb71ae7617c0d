"""The connection target, resolved once by libpq's own parser, and the one masking rule.

`DATABASE_URL` (a URL or a `key=value` string) or the `DB_*` keys become one set of libpq
parameters. The guard classifies that result, every printed form is made from it (masked),
and every connection is opened with it: what is checked is what is connected to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from dbtasks.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DRIVER = "postgresql+psycopg2"
MASK = "***"
# Parameters that decide where, and as whom, libpq connects. In a URL's query they would
# silently override the host the URL shows; service files move the target out of sight.
ROUTING_KEYS = ("host", "hostaddr", "port", "dbname", "user", "service", "servicefile")
SECRET_KEYS = ("password", "sslpassword")
# Options dbtasks adds for its own clusters; they would only clutter every printed target.
_UNSHOWN = ("require_auth",)
_EVERY_URL = "postgresql://postgres:"  # words every masked URL shows
_SCHEMES = ("postgresql", "postgres")
_DEFAULT_PORT = 5432

# Defence in depth for free text: credentials in URLs (greedy to the last "@", since a
# malformed URL may hold an unencoded "@"), and password-like keys in query or key=value
# strings, quoted or not.
_URL_CREDENTIALS = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@?#\s]*):[^\n]*@", re.I)
_SECRET_PAIRS = re.compile(
    r"(?P<key>\b(?:ssl)?password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE
)


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect; the password lives here and is never shown."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    query: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold sslpassword
    source: str = "DB_*"  # which settings named it: "DB_*" or "DATABASE_URL"

    def connect_kwargs(self, database: str | None = None) -> dict[str, Any]:
        """The libpq parameters, exactly as classified: no URL string, nothing to escape."""
        return {
            "host": self.host,
            # Empty, so that a PGHOSTADDR in the environment cannot move the connection.
            "hostaddr": "",
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": database or self.database,
            **self.query,
        }

    def sqlalchemy_url(self, database: str | None = None) -> URL:
        """A URL for code that wants one; built with `URL.create`, so any password survives."""
        from sqlalchemy.engine import URL

        return URL.create(
            DRIVER,
            username=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            database=database or self.database,
            query=dict(self.query),
        )

    def with_options(self, **options: str) -> Endpoint:
        """A copy with extra libpq options; options already set are kept."""
        from dataclasses import replace

        return replace(self, query={**options, **self.query})

    def masked(self) -> str:
        """The only form in which a target is ever shown."""
        query = "&".join(
            f"{k}={MASK if k in SECRET_KEYS else quote(v, safe='')}"
            for k, v in sorted(self.query.items())
            if k not in _UNSHOWN
        )
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = quote(self.user, safe="")
        database = quote(self.database, safe="")
        text = f"postgresql://{user}:{MASK}@{host}:{self.port}/{database}"
        return f"{text}?{query}" if query else text

    def conninfo(self, database: str | None = None) -> str:
        """A libpq key=value string of where and how to connect (no password), every
        value quoted as libpq requires: no value can add a key of its own."""
        pairs = {
            "host": self.host,
            "port": str(self.port),
            "dbname": database or self.database,
            "user": self.user,
            **{k: v for k, v in self.query.items() if k not in SECRET_KEYS},
        }
        return " ".join(f"{k}={_conninfo_value(v)}" for k, v in pairs.items())

    @property
    def where(self) -> str:
        """host:port, for messages."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _conninfo_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def from_parts(host: str, port: int, user: str, password: str, database: str) -> Endpoint:
    """The target the DB_* keys name."""
    _check_host(host, "DB_HOST")
    return Endpoint(host, port, user, password, database)


def from_url(text: str) -> Endpoint:
    """The target `DATABASE_URL` names: a postgresql:// URL or a key=value string."""
    text = text.strip()
    if "://" in text:
        params = _url_params(text)
    elif "=" in text:
        params = _libpq_parse(text)
    else:
        raise _bad("it is neither a postgresql:// URL nor a key=value connection string")
    for key in ("hostaddr", "service", "servicefile"):
        if key in params:
            raise _bad(f"it sets {key}, which moves the connection out of sight; name the host")
    return _endpoint(params)


def _url_params(text: str) -> dict[str, str]:
    scheme, _, rest = text.partition("://")
    base = scheme.lower().split("+", 1)[0]  # SQLAlchemy's postgresql+psycopg2:// is fine
    if base not in _SCHEMES:
        raise _bad(f"the scheme must be postgresql://, not {scheme}://")
    url = f"postgresql://{rest}"
    try:
        split = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        raise _bad("its host part cannot be parsed (an IPv6 address goes in [brackets])") from None
    # Before libpq's parse: it rejects keys it does not know (servicefile, in libpq 17)
    # with a message that cannot name them.
    moved = [k for k, _ in parse_qsl(split.query, keep_blank_values=True) if k in ROUTING_KEYS]
    if moved:
        raise _bad(
            f"its query sets {moved[0]!r}, which would override the URL's own "
            f"{'database' if moved[0] == 'dbname' else moved[0]}; put it in the URL itself"
        )
    params = _libpq_parse(url)
    _check_host(params.get("host", ""), "DATABASE_URL")  # before the port: a list has several
    _port(params.get("port"))
    _cross_check(split, params)
    return params


def _cross_check(split: Any, params: Mapping[str, str]) -> None:
    """libpq and a standard URL parser must read the same target, or the URL is ambiguous."""
    try:
        port = split.port
    except ValueError:  # e.g. a password with an unencoded "?" cut the URL short
        port = None
    standard = (
        (split.hostname or "").lower(),
        str(port or ""),
        unquote(split.username or ""),
        unquote(split.path.lstrip("/")),
    )
    ours = (
        params.get("host", "").lower(),
        params.get("port", ""),
        params.get("user", ""),
        params.get("dbname", ""),
    )
    if standard != ours:
        raise _bad(
            "it reads differently to libpq and to a standard URL parser; percent-encode "
            "special characters in the user and password (@ %40, : %3A, / %2F, ? %3F, # %23)"
        )


def _libpq_parse(text: str) -> dict[str, str]:
    import psycopg2
    from psycopg2.extensions import parse_dsn

    try:
        return dict(parse_dsn(text))
    except psycopg2.ProgrammingError as exc:
        # libpq quotes pieces of the input, which may be a password: keep only its words.
        reason = re.sub(r'"[^"]*"', "…", str(exc).replace("invalid dsn: ", "")).strip()
        raise _bad(f"libpq cannot parse it ({reason})") from None


def _endpoint(params: Mapping[str, str]) -> Endpoint:
    host = params.get("host", "")
    if not host:
        raise _bad("it names no host")
    _check_host(host, "DATABASE_URL")
    database = params.get("dbname", "")
    if not database:
        raise _bad("it names no database")
    if len(database.encode()) > 63:
        raise _bad("its database name is longer than Postgres' 63-byte limit")
    if "=" in database or database.lower().startswith(("postgresql:", "postgres:")):
        raise _bad("its database name would be read as a connection string by libpq")
    port = _port(params.get("port"))
    rest = {k: v for k, v in params.items() if k not in (*ROUTING_KEYS, "password")}
    user = params.get("user") or "postgres"
    password = params.get("password", "")
    return Endpoint(host, port, user, password, database, rest, source="DATABASE_URL")


def _port(raw: str | None) -> int:
    if not raw:
        return _DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise _bad("the port must be a number between 1 and 65535")
    return int(raw)


def _check_host(host: str, setting: str) -> None:
    if "," in host:
        raise ConfigError(
            f"{setting} names several hosts; dbtasks connects to exactly one",
            "name the one host to use",
        )
    if any(ch.isspace() for ch in host):
        raise ConfigError(f"{setting} holds whitespace in its host name")


def _bad(why: str) -> ConfigError:
    # Never echo the value: it may be a password pasted in the wrong place.
    return ConfigError(f"DATABASE_URL is malformed: {why}")


def is_loopback(host: str) -> bool:
    """Only this machine: an address in 127.0.0.0/8 or ::1, or exactly `localhost`
    (not `localhost.`: resolvers send a fully qualified name to DNS, not /etc/hosts)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask credentials in free text, and every occurrence of the given secrets."""
    text = _URL_CREDENTIALS.sub(rf"\g<head>:{MASK}@", text)
    text = _SECRET_PAIRS.sub(rf"\g<key>{MASK}", text)
    for secret in secrets:
        # Very short secrets (or the default "postgres", a word of every masked URL)
        # would garble every message if replaced; messages never embed them anyway.
        if len(secret) < 8 or secret in _EVERY_URL:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, MASK)
    return text
