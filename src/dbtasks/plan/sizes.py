"""What the target holds, read with catalog queries only, on a read-only session.

Rows are `reltuples` (the statistics' live rows for a table never analysed), pages are
`relpages`; bytes are `pg_total_relation_size`, which takes ACCESS SHARE on the table:
under a 100 ms `lock_timeout`, so a plan never queues behind (or in front of) a lock, and
when the lock is not free at once the pages of the table, its TOAST table and its
indexes stand in. `live` reads `pg_stat_activity` and `pg_locks`: the transactions a
migration's lock would queue behind. The session is read-only
(`default_transaction_read_only`): a write could not happen on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dbtasks.plan.model import Size

if TYPE_CHECKING:
    from dbtasks.settings import Settings

APPLICATION = "dbtasks plan"
_SIZES_SQL = """
SELECT n.nspname || '.' || c.relname, c.oid,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE coalesce(s.n_live_tup, 0) END,
       c.relpages,
       (c.relpages + coalesce(t.relpages, 0) + coalesce((SELECT sum(i.relpages)
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = c.oid), 0))
       * current_setting('block_size')::bigint
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname || '.' || c.relname = ANY(%s)
"""
_LIVE_SQL = """
SELECT a.pid, a.usename, a.application_name, a.state,
       round(extract(epoch FROM clock_timestamp() - a.xact_start)::numeric, 1),
       a.wait_event_type = 'Lock',
       coalesce((SELECT array_agg(DISTINCT n.nspname || '.' || c.relname || ' ' || l.mode)
                 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE l.pid = a.pid AND n.nspname || '.' || c.relname = ANY(%s)), '{}')
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL
ORDER BY a.xact_start LIMIT 20
"""


@contextmanager
def _reading(settings: Settings) -> Iterator[Any]:
    from dbtasks import pg

    with pg.session(settings.endpoint, application=APPLICATION) as cur:
        cur.connection.set_session(readonly=True)
        cur.execute("SELECT set_config('lock_timeout', '100ms', false)")
        yield cur


def read(settings: Settings, tables: list[str]) -> dict[str, Size]:
    """The size of each of `tables` (schema.name) that exists on the target."""
    import psycopg2

    if not tables:
        return {}
    with _reading(settings) as cur:
        cur.execute(_SIZES_SQL, (tables,))
        found = {row[0]: row for row in cur.fetchall()}
        exact: dict[str, int] = {}
        for name, (_, oid, *_rest) in found.items():
            try:
                cur.execute("SELECT pg_total_relation_size(%s)", (oid,))
                exact[name] = int(cur.fetchone()[0])
            except psycopg2.errors.LockNotAvailable:
                continue  # someone holds it: the catalog's pages stand in
    return {
        name: Size(name, int(rows), int(pages), exact.get(name, int(estimate)), name in exact)
        for name, (_, _, rows, pages, estimate) in found.items()
    }


def live(settings: Settings, tables: list[str]) -> list[dict[str, Any]]:
    """Open transactions on the target's database, oldest first, with the locks they hold
    on the plan's tables and whether they wait for a lock themselves."""
    with _reading(settings) as cur:
        cur.execute(_LIVE_SQL, (tables,))
        rows = cur.fetchall()
    keys = ("pid", "user", "application", "state", "open_seconds", "waiting", "locks")
    return [
        dict(zip(keys, (*row[:4], float(row[4] or 0), bool(row[5]), list(row[6])), strict=True))
        for row in rows
    ]
