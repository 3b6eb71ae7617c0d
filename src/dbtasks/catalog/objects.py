"""Objects one by one: the columns an INSERT may name, a table's rows as text, and
everything a schema holds in the order DROP needs."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from dbtasks.catalog import SKIPPED, qualified_names


def insertable_columns(cur: Any, schema: str, table: str) -> list[str]:
    """The columns an INSERT may name (not generated, not dropped), in table order."""
    cur.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s "
        "AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
        (schema, table),
    )
    return [str(r[0]) for r in cur.fetchall()]


def row_texts(cur: Any, schema: str, table: str) -> set[str]:
    """Every row of the table as JSON text (jsonb's own normal form: equal rows, equal
    text), for finding the rows two databases do not share."""
    from psycopg2 import sql

    cur.execute(
        sql.SQL("SELECT to_jsonb(r)::text FROM ONLY {} r").format(sql.Identifier(schema, table))
    )
    return {str(r[0]) for r in cur.fetchall()}


_DROPPABLE_SQL = """
SELECT kind, ref FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
           quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS ref, n.nspname, c.relname,
           c.oid, 'pg_class'::regclass AS catalog
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname = ANY(%(schemas)s)
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
               AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
  UNION ALL
    SELECT CASE WHEN p.prokind = 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
           p.oid::regprocedure::text, n.nspname, p.proname, p.oid, 'pg_proc'::regclass
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ANY(%(schemas)s)
  UNION ALL
    SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
           quote_ident(n.nspname) || '.' || quote_ident(t.typname), n.nspname, t.typname, t.oid,
           'pg_type'::regclass
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = ANY(%(schemas)s) AND t.typtype IN ('e', 'c', 'd', 'r')
      AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
) o
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.catalog AND d.objid = o.oid
                  AND d.deptype = 'e')
  AND NOT (o.kind = 'TABLE' AND o.relname = ANY(%(skip)s))
ORDER BY array_position(ARRAY['VIEW', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'TABLE',
                              'SEQUENCE', 'AGGREGATE', 'ROUTINE', 'DOMAIN', 'TYPE'], kind), ref
"""


def droppable(
    cur: Any, schemas: Iterable[str], skip: Collection[str] = SKIPPED
) -> list[tuple[str, str]]:
    """(kind, qualified name) of every object in `schemas` a DROP ... CASCADE removes one by
    one, dependants first; extensions' members, the tables in `skip` and the sequences
    tables own are left out."""
    with qualified_names(cur):
        cur.execute(_DROPPABLE_SQL, {"schemas": list(schemas), "skip": list(skip)})
        return [(str(r[0]), str(r[1])) for r in cur.fetchall()]
