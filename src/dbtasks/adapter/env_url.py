"""An env.py that makes its own connection runs where dbtasks' run does.

dbtasks hands env.py the connection to run on (`config.attributes["connection"]`), but
the env.py `alembic init` writes ignores it and connects by the Config's
`sqlalchemy.url`. While a run is on another database than the configured one (a scratch
build of db.validate, db.plan, db.erd, db.squash, or a throwaway cluster), the Config's
URL must name that database, or such an env.py migrates the developer's database
instead. And whatever env.py connects to, the connection it configures Alembic with must
be covered by the run's grant (`checked`): the guard judges where the DDL really goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config

    from dbtasks.grants import Grant
    from dbtasks.guard import Intent

URL = "sqlalchemy.url"
# libpq options of the run's connection an env.py's own should keep (TLS above all).
_KEPT = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "require_auth")


def url_of(connection: Any) -> str:
    """The URL of a live connection, password included (for the Config only, in memory)."""
    from sqlalchemy.engine import URL as SqlUrl

    raw = getattr(connection, "connection", connection)  # SQLAlchemy's, then the driver's
    info = getattr(raw, "dbapi_connection", raw).info
    params = info.dsn_parameters
    query = {k: params[k] for k in _KEPT if params.get(k)}
    url = SqlUrl.create(
        "postgresql+psycopg2",
        username=info.user,
        password=info.password or None,
        host=info.host,
        port=int(info.port),
        database=info.dbname,
        query=query,
    )
    return url.render_as_string(hide_password=False)


@contextmanager
def following(config: Config, connection: Any) -> Iterator[None]:
    """The Config's URL names `connection`'s database for the block, then what it was."""
    section = config.config_ini_section
    before = config.file_config.get(section, URL, raw=True, fallback=None)
    # Escaped: ini interpolation would read a "%" in the password.
    config.set_main_option(URL, url_of(connection).replace("%", "%%"))
    try:
        yield
    finally:
        if before is None:
            config.file_config.remove_option(section, URL)
        else:
            config.set_main_option(URL, before)


def checked(given: Any, ours: Any, grant: Grant, intent: Intent, schema: str) -> None:
    """env.py configured Alembic with `given`: when it is not the connection dbtasks
    handed over, it must still be one the run's grant covers."""
    from dbtasks.errors import Refused

    if given is None or given is ours:
        return
    try:
        grant.require(intent, given, schema=schema)
    except Refused as exc:
        raise Refused(
            f"env.py connected on its own, not to the database dbtasks gave it: {exc.message}",
            "let env.py use config.attributes['connection'] (docs/adopting.md), or read the "
            "URL from the Config (sqlalchemy.url), which follows every run",
        ) from None
