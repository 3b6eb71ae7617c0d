"""Template-database snapshots: a migrated (and seeded) database, cloned in milliseconds.

A snapshot is keyed by a fingerprint of every revision file (the folders Alembic reads),
every seed file and the seed callable's module, so any change to one of them makes the old
snapshot unreachable; building a new one drops the older snapshots of the same database.
Works with psycopg2 only: the fast path of `inv db.reset` never imports SQLAlchemy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks import pg
from dbtasks.errors import ConfigError, DbTasksError
from dbtasks.migrations.version_table import locate, read_current
from dbtasks.seeds import iter_fingerprint_files

if TYPE_CHECKING:
    from dbtasks.grants import Grant, ScratchSpace
    from dbtasks.migrations.graph_cache import Locations
    from dbtasks.settings import Settings

FORMAT = "dbtasks-snapshot-4"  # change when what a snapshot holds changes
_MARK = "dbtasks snapshot"
_LOCK_NAMESPACE = 0x5A4D5348  # distinct from the migration lock's namespace
NAME_LIMIT = 63  # bytes, Postgres' identifier limit


@dataclass(frozen=True)
class Snapshot:
    name: str
    heads: tuple[str, ...]


def fingerprint(settings: Settings, seed: bool, where: Locations) -> str:
    """A hash of what a reset builds: migrations, seeds (when seeding) and the schema."""
    digest = hashlib.sha256(
        f"{FORMAT}\0{settings.schema}\0seed={seed}\0baseline={settings.baseline}\0".encode()
    )
    for path in where.files():  # their hashes, remembered by the graph cache when valid
        digest.update(f"{path}\0{where.sha(path)}\0".encode())
    for path in iter_fingerprint_files(settings) if seed else ():
        digest.update(str(path).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def derived_name(base: str, tag: str, key: str) -> str:
    """`base` cut to fit, then `_tag_key`: at most 63 bytes, and unique by its key."""
    suffix = f"_{tag}_{key}"
    room = NAME_LIMIT - len(suffix.encode())
    head = base.encode()[:room].decode("utf-8", "ignore")
    return head + suffix


def snapshot_name(database: str, key: str) -> str:
    # The key covers the database's full name: two long names sharing a prefix differ.
    unique = hashlib.sha256(f"{database}\0{key}".encode()).hexdigest()[:16]
    name = derived_name(database, "snap", unique)
    if name == database:
        raise ConfigError(f"DB_NAME={database!r} collides with its own snapshot's name")
    return name


def _identity(database: str, seed: bool) -> str:
    return f"{_MARK} of={database} seed={seed}"


def find(cur: Any, name: str) -> Snapshot | None:
    cur.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
    )
    row = cur.fetchone()
    comment = str(row[0] or "") if row else ""
    if not comment.startswith(_MARK) or " heads=" not in comment:
        return None
    heads = comment.rsplit(" heads=", 1)[1]
    return Snapshot(name, tuple(h for h in heads.split(",") if h))


def state(cur: Any, settings: Settings, where: Locations, seed: bool = True) -> str:
    """'valid', 'stale' (only for older files) or 'none', for `db.status`; `cur` may be on
    any database of the server (pg_database is shared by all)."""
    database = settings.endpoint.database
    name = snapshot_name(database, fingerprint(settings, seed, where))
    if find(cur, name):
        return "valid"
    return "stale" if _others(cur, database, seed, name) else "none"


def _others(cur: Any, database: str, seed: bool, keep: str) -> list[str]:
    """Snapshots of the same database and seed flavour, other than `keep`."""
    cur.execute(
        "SELECT datname FROM pg_database WHERE datname <> %s "
        "AND starts_with(coalesce(shobj_description(oid, 'pg_database'), ''), %s)",
        (keep, _identity(database, seed) + " heads="),
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


def build(
    cur: Any,
    source: str,
    name: str,
    of: tuple[str, bool],
    heads: tuple[str, ...],
    space: ScratchSpace,
) -> None:
    """Freeze database `source` as snapshot `name` of database `of[0]` (seeded: `of[1]`),
    replacing the older snapshots of it; each is a scratch database of `space`."""
    from psycopg2 import sql

    database, seed = of
    for old in [*_others(cur, database, seed, name), name]:
        pg.drop_database(cur, old, space.grant(old))
    pg.create_database(cur, name, space.grant(name), template=source)
    ident = sql.Identifier(name)
    # No connections: a stray session on the template would block every clone.
    cur.execute(
        sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(ident)
    )
    comment = f"{_identity(database, seed)} heads={','.join(heads)}"
    cur.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(ident, sql.Literal(comment)))


def restore(cur: Any, snapshot: Snapshot, database: str, grant: Grant) -> None:
    """Replace `database` with a clone of the snapshot: DESTROY on `database`."""
    pg.drop_database(cur, database, grant)
    pg.create_database(cur, database, grant, template=snapshot.name)


def read_heads(settings: Settings, database: str | None = None) -> tuple[str, ...]:
    """The revisions recorded in a database, read with psycopg2 (no Alembic import)."""
    with pg.session(settings.endpoint, database) as cur:
        return read_current(cur, locate(cur, settings))


def verify(settings: Settings, snapshot: Snapshot, database: str) -> None:
    heads = read_heads(settings, database)
    if heads != snapshot.heads:
        raise DbTasksError(
            f"the clone of {snapshot.name} is at {heads}, expected {snapshot.heads}",
            "run `inv db.reset --yes --no-snapshot`",
        )


def scratch_name(name: str) -> str:
    """Where a snapshot is built before it is frozen: never a configured name."""
    return derived_name(name.rsplit("_snap_", 1)[0], "build", name.rsplit("_", 1)[-1])
