"""What `dbtasks.erd` draws, read from the catalogs.

Every relation with its comment, row-level security and policies, columns with the kind of
their (element) type, constraints with their columns and actions, indexes, enum and domain
types. Rows, ordered; `dbtasks.erd.read` makes the model. Names are read with only
pg_catalog on the search path, as `describe` reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dbtasks.catalog import qualified_names, query_rows


@dataclass(frozen=True)
class ErdRows:
    """The catalog rows of `erd_rows`, each list in a stable order."""

    relations: list[tuple[Any, ...]]
    columns: list[tuple[Any, ...]]
    constraints: list[tuple[Any, ...]]
    indexes: list[tuple[Any, ...]]
    enums: list[tuple[Any, ...]]
    domains: list[tuple[Any, ...]]


def erd_schemas(cur: Any) -> list[str]:
    """Every schema but Postgres' own, by name."""
    cur.execute(_ERD_SCHEMAS_SQL)
    return [str(r[0]) for r in cur.fetchall()]


def erd_rows(cur: Any, schemas: Iterable[str]) -> ErdRows:
    """The rows of `schemas` that an entity-relationship diagram needs (see `ErdRows`)."""
    wanted = list(schemas)
    with qualified_names(cur):
        return ErdRows(
            relations=query_rows(cur, _ERD_RELATIONS_SQL, wanted),
            columns=query_rows(cur, _ERD_COLUMNS_SQL, wanted),
            constraints=query_rows(cur, _ERD_CONSTRAINTS_SQL, wanted),
            indexes=query_rows(cur, _ERD_INDEXES_SQL, wanted),
            enums=query_rows(cur, _ERD_ENUMS_SQL, wanted),
            domains=query_rows(cur, _ERD_DOMAINS_SQL, wanted),
        )


_ERD_SCHEMAS_SQL = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1
"""

# Partitions are drawn as their parent; objects an extension owns are not the schema's.
_ERD_RELATION_FILTER = """
c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY(%(schemas)s) AND NOT c.relispartition
AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                AND e.objid = c.oid AND e.deptype = 'e')
"""

_ERD_RELATIONS_SQL = f"""
SELECT n.nspname, c.relname, c.relkind::text, obj_description(c.oid, 'pg_class'),
       c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_ERD_RELATION_FILTER}
ORDER BY 1, 2
"""

# The element type of an array, so that an enum array still names its enum.
_ERD_COLUMNS_SQL = f"""
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       col_description(c.oid, a.attnum), et.typtype::text, en.nspname, et.typname,
       t.typcategory = 'A'
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type et ON et.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0
                                 THEN t.typelem ELSE t.oid END
JOIN pg_namespace en ON en.oid = et.typnamespace
WHERE {_ERD_RELATION_FILTER}
ORDER BY 1, 2, a.attnum
"""

_ERD_CONSTRAINTS_SQL = f"""
SELECT n.nspname, c.relname, k.conname, k.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num
             ORDER BY u.ord),
       fn.nspname, fc.relname,
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num
             ORDER BY u.ord),
       k.confupdtype::text, k.confdeltype::text, pg_get_constraintdef(k.oid, true)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = k.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE k.contype IN ('p', 'f', 'u', 'c', 'x') AND k.conparentid = 0 AND {_ERD_RELATION_FILTER}
ORDER BY 1, 2, 3
"""

_ERD_INDEXES_SQL = f"""
SELECT n.nspname, c.relname, i.relname, x.indisunique, x.indisprimary, pg_get_indexdef(i.oid),
       ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY u(num, ord)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.num
             ORDER BY u.ord)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_ERD_RELATION_FILTER}
ORDER BY 1, 2, 3
"""

_ERD_ENUMS_SQL = """
SELECT n.nspname, t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ANY(%(schemas)s) GROUP BY 1, 2 ORDER BY 1, 2
"""

_ERD_DOMAINS_SQL = """
SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
       t.typdefault,
       ARRAY(SELECT pg_get_constraintdef(k.oid, true) FROM pg_constraint k
             WHERE k.contypid = t.oid ORDER BY k.conname)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd' AND n.nspname = ANY(%(schemas)s)
ORDER BY 1, 2
"""
