"""Template-database snapshots: a migrated (and seeded) database, cloned in milliseconds.

A snapshot's name carries a fingerprint of every migration and seed file, so any change to
one of them makes the old snapshot unreachable; it is dropped when the next one is built.
Works with psycopg2 only: the fast path of `inv db.reset` never imports SQLAlchemy.
"""

from __future__ import annotations

import configparser
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import pg
from dbtasks.errors import DbTasksError
from dbtasks.seeds import iter_fingerprint_files

if TYPE_CHECKING:
    from dbtasks.settings import Settings
    from dbtasks.urls import Endpoint

FORMAT = "dbtasks-snapshot-1"  # change when what a snapshot holds changes
_MARK = "dbtasks snapshot heads="
_LOCK_NAMESPACE = 0x5A4D5348  # distinct from the migration lock's namespace


@dataclass(frozen=True)
class Snapshot:
    name: str
    heads: tuple[str, ...]


def versions_dirs(settings: Settings) -> list[Path]:
    """Where the revision files live, read from alembic.ini without importing Alembic."""
    ini = settings.project_root / "alembic.ini"
    parser = configparser.ConfigParser(defaults={"here": str(settings.project_root)})
    parser.read(ini, encoding="utf-8")
    section = parser["alembic"] if parser.has_section("alembic") else {}
    locations = section.get("version_locations")
    if locations:
        return [Path(p) for p in locations.replace(",", " ").split()]
    script = Path(section.get("script_location", "alembic"))
    script = script if script.is_absolute() else settings.project_root / script
    return [script / "versions"]


def fingerprint(settings: Settings, seed: bool) -> str:
    """A hash of what a reset builds: migrations, seeds (when seeding) and the schema."""
    digest = hashlib.sha256(f"{FORMAT}\0{settings.schema}\0seed={seed}\0".encode())
    files = sorted(p for d in versions_dirs(settings) if d.is_dir() for p in d.rglob("*.py"))
    if seed:
        files += list(iter_fingerprint_files(settings))
    for path in files:
        digest.update(str(path.relative_to(settings.project_root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def snapshot_name(database: str, key: str) -> str:
    return f"{_prefix(database)}{key[:12]}"


def _prefix(database: str) -> str:
    # 34 + 9 + 12 (+ "_build" while building) stays within the 63-byte name limit.
    return f"{database[:34]}_dbtasks_"


def find(cur: Any, name: str) -> Snapshot | None:
    cur.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
    )
    row = cur.fetchone()
    if row is None or not str(row[0] or "").startswith(_MARK):
        return None
    heads = str(row[0])[len(_MARK) :]
    return Snapshot(name, tuple(h for h in heads.split(",") if h))


def state(settings: Settings, seed: bool = True) -> str:
    """'valid', 'stale' (only for older files) or 'none', for `db.status`."""
    name = snapshot_name(settings.endpoint.database, fingerprint(settings, seed))
    with pg.maintenance(settings.endpoint) as cur:
        if find(cur, name):
            return "valid"
        return "stale" if _others(cur, settings.endpoint.database, name) else "none"


def _others(cur: Any, database: str, keep: str) -> list[str]:
    prefix = _prefix(database)
    cur.execute(
        "SELECT datname FROM pg_database WHERE left(datname, %s) = %s AND datname <> %s",
        (len(prefix), prefix, keep),
    )
    return [str(row[0]) for row in cur.fetchall()]


@contextmanager
def build_lock(cur: Any, name: str) -> Iterator[None]:
    """A session advisory lock on the maintenance connection while `name` is built."""
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest()) & 0x7FFFFFFF
    cur.execute("SELECT pg_advisory_lock(%s, %s)", (_LOCK_NAMESPACE, key))
    try:
        yield
    finally:
        cur.execute("SELECT pg_advisory_unlock(%s, %s)", (_LOCK_NAMESPACE, key))


def build(cur: Any, database: str, name: str, heads: tuple[str, ...]) -> None:
    """Freeze `database` as snapshot `name`, replacing older snapshots of it."""
    from psycopg2 import sql

    for old in [*_others(cur, database, name), name]:
        pg.drop_database(cur, old)
    pg.create_database(cur, name, template=database)
    ident = sql.Identifier(name)
    # No connections: a stray session on the template would block every clone.
    cur.execute(
        sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(ident)
    )
    cur.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(ident, sql.Literal(_MARK + ",".join(heads)))
    )


def restore(cur: Any, snapshot: Snapshot, database: str) -> None:
    """Replace `database` with a clone of the snapshot."""
    pg.drop_database(cur, database)
    pg.create_database(cur, database, template=snapshot.name)


def read_heads(endpoint: Endpoint, schema: str, database: str | None = None) -> tuple[str, ...]:
    """The revisions recorded in a database, read with psycopg2 (no Alembic import)."""
    import psycopg2
    from psycopg2 import sql

    with pg.session(endpoint, database) as cur:
        try:
            cur.execute(
                sql.SQL("SELECT version_num FROM {}.alembic_version ORDER BY 1").format(
                    sql.Identifier(schema)
                )
            )
        except psycopg2.errors.UndefinedTable:
            return ()
        return tuple(str(row[0]) for row in cur.fetchall())


def verify(endpoint: Endpoint, schema: str, snapshot: Snapshot, database: str) -> None:
    heads = read_heads(endpoint, schema, database)
    if heads != snapshot.heads:
        raise DbTasksError(
            f"the clone of {snapshot.name} is at {heads}, expected {snapshot.heads}",
            "run `inv db.reset --yes --no-snapshot`",
        )
