"""Settings, loaded once per command.

Precedence, highest first: task flags > real environment > `.env` > `[tool.dbtasks]` in
pyproject.toml > defaults. A layer that sets any connection key beats every connection
key of the layers below it, so a `DATABASE_URL` in `.env` never outranks `DB_HOST` from
the environment. Every key is declared once in `KEYS`; `.env.example` and
docs/configuration.md document the same list (a unit test keeps them in step).
"""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbtasks import passwords
from dbtasks.errors import ConfigError
from dbtasks.settings.keys import parse_all
from dbtasks.settings.sources import choose, find_project_root, layers
from dbtasks.stack import Capabilities, capabilities_of, choose_backend
from dbtasks.supabase import MANAGED_SCHEMAS, with_hosted_defaults
from dbtasks.target import Endpoint, from_parts, from_url, is_loopback

# libpq reads these from the environment for any parameter a connection does not give,
# and no explicit host overrides them: they could move every connection out of sight.
LIBPQ_ROUTING_ENV = ("PGHOSTADDR", "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR")
# What initdb accepts as the bootstrap superuser without quoting surprises.
_INITDB_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know, resolved and validated."""

    endpoint: Endpoint
    schema: str
    alembic_config: Path  # the ini file (it may not exist: [tool.alembic] may be all)
    version_table: str
    version_schema: str | None  # None: DB_SCHEMA, or where an adopted database keeps it
    backend: str
    baseline: str  # "supabase": a Supabase project (see dbtasks.baseline); "none": plain
    data_dir: Path
    health_timeout: float
    pg_bindir: Path | None
    native_user: str | None
    lock: bool
    lock_timeout: float
    slow_revision: float
    heads: int
    lint_ignore: tuple[str, ...]
    lint_from: str | None
    server_version: str | None
    extensions: tuple[str, ...]
    environment: str
    metadata: str | None
    seeds: tuple[str, ...]
    seed_callable: str | None
    compose_file: Path
    image: str
    log_file: Path | None
    log_level: str
    log_format: str
    project_root: Path
    # Which layer each setting came from, and what was noticed while loading.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def masked_url(self) -> str:
        return self.endpoint.masked()

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.endpoint.host)

    @property
    def is_production(self) -> bool:
        return is_production_label(self.environment)


def is_production_label(value: str) -> bool:
    """`DB_ENV` names production: production, prod, prd, live, and their variants
    (`production-eu`, `prod_us`, `Production1`), with invisible characters ignored. A
    near miss must err towards refusing."""
    import unicodedata

    label = "".join(c for c in value if unicodedata.category(c) != "Cf").strip().lower()
    return label.startswith(("prod", "prd")) or label in ("live",)


def _native_user(configured: str | None) -> str | None:
    """Postgres refuses to run as root; pick an unprivileged account when we are root."""
    if os.geteuid() != 0:
        return configured
    for candidate in (configured,) if configured else ("postgres", "nobody"):
        try:
            pwd.getpwnam(candidate)
        except KeyError:
            continue
        return candidate
    if configured:
        raise ConfigError(
            f"DB_NATIVE_USER={configured!r} names no user on this machine",
            "create that user or name an existing unprivileged one",
        )
    raise ConfigError(
        "running as root and no 'postgres' or 'nobody' user exists",
        "set DB_NATIVE_USER to an unprivileged user",
    )


def _alembic_ini(root: Path, raw: str | None, environ: Mapping[str, str]) -> Path:
    """DB_ALEMBIC_CONFIG, else Alembic's own ALEMBIC_CONFIG (what `alembic -c` would be),
    else alembic.ini; relative to the project root."""
    path = Path(raw or environ.get("ALEMBIC_CONFIG") or "alembic.ini").expanduser()
    return path if path.is_absolute() else root / path


def _log_file(root: Path, raw: str | None) -> Path | None:
    """DB_LOG_FILE: relative paths stay inside the project; anywhere else must be named
    absolutely, so that `../` never wanders off by accident."""
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if path.is_absolute():
        return path
    if not Path(os.path.normpath(root / path)).is_relative_to(root):
        raise ConfigError(
            f"DB_LOG_FILE={raw!r} leads outside the project",
            "give a path inside the project, or an absolute path",
        )
    return root / path


def _data_dir(root: Path, raw: str) -> Path:
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else root / path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"DB_DATA_DIR={str(path)!r} is a file, not a directory")
    return path


def _isolate_libpq(environ: Mapping[str, str], own: bool, warnings: list[str]) -> None:
    """libpq reads these from the process environment at every connect. PGHOSTADDR is
    outweighed by the empty `hostaddr` every connection passes; a service needs PGSERVICE,
    which no connection parameter outweighs: in a process of its own (the `inv` command)
    dbtasks removes it, elsewhere (the pytest plugin, an application's process) it is bad
    input rather than a change to someone else's environment."""
    found = [name for name in LIBPQ_ROUTING_ENV if name in environ]
    if "PGSERVICE" in found and not own:
        raise ConfigError(
            "PGSERVICE is set: libpq would connect where its service file says, not where "
            "dbtasks' settings say",
            "unset PGSERVICE for this process, or name the target in DB_* / DATABASE_URL",
        )
    for name in found:
        if own and isinstance(environ, MutableMapping):
            environ.pop(name, None)
        warnings.append(
            f"ignoring {name} from the environment: dbtasks connects only to the "
            "target its own settings name"
        )


def _endpoint(
    v: Mapping[str, Any], url: Endpoint | None, caps: Capabilities, root: Path, data_dir: Path
) -> Endpoint:
    if url is not None:
        endpoint = with_hosted_defaults(url)
    else:
        password = v["password"]
        if password is None:
            password = passwords.local_password(root, data_dir) if caps.owns_server else ""
        endpoint = from_parts(v["host"], v["port"], v["user"], password, v["name"])
        endpoint = with_hosted_defaults(endpoint)
    if caps.owns_server and not is_loopback(endpoint.host):
        raise ConfigError(
            f"a stack dbtasks runs listens on this machine only, but the host is {endpoint.host!r}",
            "set DB_HOST=127.0.0.1, or DB_BACKEND=external for a database dbtasks does not run",
        )
    if caps.local_cluster:
        _check_native_user(endpoint.user)
    if caps.owns_server:
        # A server dbtasks made only speaks SCRAM: never hand a password to anything else
        # that happens to listen on the port.
        endpoint = endpoint.with_options(require_auth="scram-sha-256")
    return endpoint


def check_schema(schema: str, setting: str = "DB_SCHEMA") -> None:
    if schema in MANAGED_SCHEMAS:
        raise ConfigError(
            f"{setting}={schema!r} is a schema Supabase manages",
            "use a schema of your own, e.g. public or your app's name",
        )


def _check_native_user(user: str) -> None:
    if not _INITDB_USER.fullmatch(user) or user.lower().startswith("pg_"):
        raise ConfigError(
            f"DB_USER={user!r} cannot be the superuser of a native cluster",
            "use letters, digits and underscores, not starting with pg_",
        )


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
    *,
    own_process: bool = False,
) -> Settings:
    """Resolve every key through the precedence chain and validate the result. With
    `own_process` (the `inv` command), the process environment is dbtasks' to tidy."""
    root = root or find_project_root()
    warnings: list[str] = []
    if environ is None:
        _isolate_libpq(os.environ, own_process, warnings)
        environ = os.environ
    chosen = choose(layers(root, environ, flags or {}, warnings), warnings)
    v = parse_all(chosen)
    url = from_url(v["database_url"]) if v["database_url"] else None
    backend = choose_backend(v["backend"], url.host if url else v["host"])
    caps = capabilities_of(backend)
    data_dir = _data_dir(root, v["data_dir"])
    endpoint = _endpoint(v, url, caps, root, data_dir)
    check_schema(v["schema"])
    if v["version_schema"]:
        check_schema(v["version_schema"], "DB_VERSION_SCHEMA")
    return Settings(
        endpoint=endpoint,
        schema=v["schema"],
        alembic_config=_alembic_ini(root, v["alembic_config"], environ),
        version_table=v["version_table"],
        version_schema=v["version_schema"],
        backend=backend,
        baseline=v["baseline"],
        data_dir=data_dir,
        health_timeout=v["health_timeout"],
        pg_bindir=Path(v["pg_bindir"]) if v["pg_bindir"] else None,
        native_user=_native_user(v["native_user"]) if caps.local_cluster else None,
        lock=v["lock"],
        lock_timeout=v["lock_timeout"],
        slow_revision=v["slow_revision"],
        heads=v["heads"],
        lint_ignore=v["lint_ignore"],
        lint_from=v["lint_from"],
        server_version=v["server_version"],
        extensions=v["extensions"],
        environment=v["environment"],
        metadata=v["metadata"],
        seeds=tuple(p.strip() for p in v["seeds"].split(",") if p.strip()),
        seed_callable=v["seed_callable"],
        compose_file=root / v["compose_file"],
        image=v["image"],
        log_file=_log_file(root, v["log_file"]),
        log_level=v["log_level"],
        log_format=v["log_format"],
        project_root=root,
        sources={f: source for f, (source, _) in chosen.items()},
        warnings=tuple(warnings),
    )
