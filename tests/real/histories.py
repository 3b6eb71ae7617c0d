"""Real Alembic histories nobody here wrote, each from a pinned wheel on PyPI.

For each: where its versions folder sits in the wheel, the application modules its
revisions import (copied from the wheel when they are self-contained, otherwise stubbed
here with the least the revisions use), what its own env.py passes to
`context.configure` that changes how revisions run, and the habits that make it worth
having (its own extensions, enums, data migrations, autocommit blocks, print()).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class History:
    key: str
    project: str  # on PyPI
    version: str
    sha256: str  # of the wheel
    versions: str  # the Alembic versions folder inside the wheel
    env_py: str  # the package's own env.py (kept for reference, not run)
    revisions: int  # how many revision files it holds
    # Self-contained helper modules copied from the wheel: member -> path on sys.path.
    copied: Mapping[str, str] = field(default_factory=dict)
    # Stub modules written by the test: path on sys.path -> source.
    stubs: Mapping[str, str] = field(default_factory=dict)
    # What the package's env.py passes to context.configure that changes how revisions
    # run; the raw side's plain env.py passes the same.
    env_options: Mapping[str, object] = field(default_factory=dict)
    habits: tuple[str, ...] = ()  # strings the revisions must contain

    @property
    def id(self) -> str:
        return f"{self.key}-{self.version}"


_PACKAGE = '"""Stub: the part of {name} its Alembic revisions import (tests/real)."""\n'

# --- CKAN: Postgres-only, 109 revisions ported from sqlalchemy-migrate --------------
CKAN = History(
    key="ckan",
    project="ckan",
    version="2.12.0",
    sha256="3b41cb4860286813fbcd18c57341e96edba266e2e492aeea92c4e03ce9e2934e",
    versions="ckan/migration/versions",
    env_py="ckan/migration/env.py",
    revisions=109,
    # skip_based_on_legacy_engine_version: imports only `typing`.
    copied={"ckan/migration/__init__.py": "ckan/migration/__init__.py"},
    stubs={"ckan/__init__.py": _PACKAGE.format(name="ckan")},
    habits=(
        "from ckan.migration import skip_based_on_legacy_engine_version",
        "conn.execute(",  # data migrations reading rows
        "print(WARNING)",  # a revision that prints
        "op.execute(",
    ),
)

# --- Open WebUI: 66 revisions, inspector-guarded DDL, data migrations, print() ---------
OPEN_WEBUI_DB = '''"""Stub of open_webui.internal.db: the column type its revisions use."""

import json
from typing import Any

from sqlalchemy import types


class JSONField(types.TypeDecorator):  # TEXT-backed JSON, as open_webui defines it
    impl = types.UnicodeText
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return json.dumps(value, ensure_ascii=False) if value is not None else None

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return json.loads(value) if value is not None else None

    def copy(self, **kwargs: Any) -> "JSONField":
        return JSONField(length=self.impl.length)
'''

OPEN_WEBUI = History(
    key="open-webui",
    project="open-webui",
    version="0.12.4",
    sha256="02e9caba96234db3fa17a92e56163b3f7f2b8ca8227fa886b85c178d696483f6",
    versions="open_webui/migrations/versions",
    env_py="open_webui/migrations/env.py",
    revisions=66,
    # get_existing_tables: imports only alembic and sqlalchemy.
    copied={"open_webui/migrations/util.py": "open_webui/migrations/util.py"},
    stubs={
        "open_webui/__init__.py": _PACKAGE.format(name="open_webui"),
        "open_webui/migrations/__init__.py": _PACKAGE.format(name="open_webui.migrations"),
        "open_webui/internal/__init__.py": _PACKAGE.format(name="open_webui.internal"),
        "open_webui/internal/db.py": OPEN_WEBUI_DB,
    },
    habits=(
        "from open_webui.internal.db import JSONField",
        "get_existing_tables()",
        "print(",
        "op.get_bind()",
        "sa.inspect(",
    ),
)

# --- Prefect: 114 Postgres revisions, pg_trgm, enums, autocommit blocks ----------------
PREFECT_INIT = '''"""Stub of prefect: the part its Alembic revisions import (tests/real).

The revisions say `import prefect` and then use `prefect.server.utilities.database.UUID`
or `prefect.server.schemas.core.CreatedBy`: in Prefect those modules are loaded by env.py
before any revision runs; here, by the package.
"""

import prefect.server.schemas.core  # noqa: F401
import prefect.server.schemas.schedules  # noqa: F401
import prefect.server.schemas.states  # noqa: F401
import prefect.server.utilities.database  # noqa: F401
'''

PREFECT_DATABASE = '''"""Stub of prefect.server.utilities.database: its column types (Postgres)."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator


class Timestamp(TypeDecorator):
    impl = sa.TIMESTAMP(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))


class UUID(TypeDecorator):
    impl = sa.Uuid()
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(postgresql.UUID())


class JSON(TypeDecorator):
    impl = postgresql.JSONB
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(postgresql.JSONB(none_as_null=True))


class Pydantic(TypeDecorator):
    """JSON holding a pydantic model: the model is not needed to make the column."""

    impl = JSON
    cache_ok = True

    def __init__(self, pydantic_type: Any, sa_column_type: Any = None) -> None:
        super().__init__()
        self._pydantic_type = pydantic_type
        if sa_column_type is not None:
            self.impl = sa_column_type
'''

# Models the revisions only pass to Pydantic(...) as column types.
_MODELS = '''"""Stub of {name}: models its revisions name as Pydantic column types."""

{classes}
'''


def _models(name: str, *classes: str) -> str:
    body = "\n\n".join(f"class {c}:\n    pass\n" for c in classes)
    return _MODELS.format(name=name, classes=body)


PREFECT_BLOCKS = '''"""Stub of prefect.blocks.core: the checksum data migrations give schemas."""

import hashlib
import json
from typing import Any


class Block:
    @staticmethod
    def _calculate_schema_checksum(schema: Any) -> str:
        text = json.dumps(schema, sort_keys=True).encode()
        return f"sha256:{hashlib.sha256(text).hexdigest()}"
'''

PREFECT_SLUGIFY = '''"""Stub of prefect.utilities.slugify."""

import re


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
'''

PREFECT_ASYNC = '''"""Stub of prefect.utilities.asyncutils."""

import asyncio
from typing import Any


def run_coro_as_sync(coro: Any) -> Any:
    return asyncio.run(coro)
'''

PREFECT_LOGGERS = '''"""Stub of prefect.logging.loggers."""

import logging


def get_logger(name: str = "prefect") -> logging.Logger:
    return logging.getLogger(name)
'''

PREFECT_LEASES = '''"""Stub of prefect.server.concurrency.lease_storage: an in-memory store."""

from dataclasses import dataclass
from typing import Any


@dataclass
class ConcurrencyLimitLeaseMetadata:
    slots: int
    holder: Any = None


class _Storage:
    async def create_lease(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def list_holders_for_limit(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


def get_concurrency_lease_storage() -> _Storage:
    return _Storage()
'''

PREFECT_CONCURRENCY_TYPES = '''"""Stub of prefect.types._concurrency."""

from dataclasses import dataclass
from typing import Any


@dataclass
class ConcurrencyLeaseHolder:
    type: Any = None
    id: Any = None
'''

PREFECT_SCHEMAS = '''"""Stub of prefect.server.utilities.schemas."""


class PrefectBaseModel:
    pass
'''


def _prefect_stubs() -> dict[str, str]:
    packages = [
        "prefect/server", "prefect/server/utilities", "prefect/server/schemas",
        "prefect/server/events", "prefect/server/events/schemas", "prefect/server/concurrency",
        "prefect/blocks", "prefect/utilities", "prefect/logging", "prefect/types",
    ]  # fmt: skip
    stubs = {f"{p}/__init__.py": _PACKAGE.format(name=p.replace("/", ".")) for p in packages}
    core = (
        "CreatedBy", "UpdatedBy", "TaskRunResult", "TaskRunPolicy", "QueueFilter",
        "Parameter", "Constant", "WorkPoolStorageConfiguration", "ConcurrencyOptions",
    )  # fmt: skip
    stubs.update({
        "prefect/__init__.py": PREFECT_INIT,
        "prefect/server/utilities/database.py": PREFECT_DATABASE,
        "prefect/server/utilities/schemas.py": PREFECT_SCHEMAS,
        "prefect/server/schemas/core.py": _models("prefect.server.schemas.core", *core),
        "prefect/server/schemas/states.py": _models(
            "prefect.server.schemas.states", "StateDetails"
        ),
        "prefect/server/schemas/schedules.py": _models(
            "prefect.server.schemas.schedules", "SCHEDULE_TYPES"
        ),
        "prefect/server/events/actions.py": _models(
            "prefect.server.events.actions", "ServerActionTypes"
        ),
        "prefect/server/events/schemas/events.py": _models(
            "prefect.server.events.schemas.events", "ReceivedEvent"
        ),
        "prefect/server/events/schemas/automations.py": _models(
            "prefect.server.events.schemas.automations", "Firing", "ServerTriggerTypes"
        ),
        "prefect/server/concurrency/lease_storage.py": PREFECT_LEASES,
        "prefect/types/_concurrency.py": PREFECT_CONCURRENCY_TYPES,
        "prefect/blocks/core.py": PREFECT_BLOCKS,
        "prefect/utilities/slugify.py": PREFECT_SLUGIFY,
        "prefect/utilities/asyncutils.py": PREFECT_ASYNC,
        "prefect/logging/loggers.py": PREFECT_LOGGERS,
    })  # fmt: skip
    return stubs


PREFECT = History(
    key="prefect",
    project="prefect",
    # 3.8.0 and later add revisions (c8d5f2a71b3e, d4a7e1c93f52) that send `%I` through
    # exec_driver_sql: fine on asyncpg, Prefect's driver; a TypeError on psycopg2, the only
    # driver dbtasks (and so raw Alembic here) speaks.
    version="3.7.8",
    sha256="6816c7f938c4a78b0b6b6f74e254a77472cb2773ad4a62462452ccfadbf9acbf",
    versions="prefect/server/database/_migrations/versions/postgresql",
    env_py="prefect/server/database/_migrations/env.py",
    revisions=114,
    stubs=_prefect_stubs(),
    # Prefect's env.py: "Each migration is its own transaction".
    env_options={"transaction_per_migration": True},
    habits=(
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "autocommit_block()",
        "postgresql_concurrently=True",
        "sa.Enum(",
        "connection.execute(",
        "prefect.server.utilities.database.Pydantic(",
    ),
)

HISTORIES = (CKAN, OPEN_WEBUI, PREFECT)
