"""Drift across a fleet: members at the same revision whose schemas differ.

Each member's schema is reduced to one hash, read with its status in the same read-only
session (one catalog query per database, however many tenant schemas it holds): its
tables, views and columns (type, nullability, default), indexes, constraints and enum
values, with the schema's own name taken out of every definition so that two tenants of
the same shape hash alike. Members at one revision are then compared: the ones whose hash
is not the most common one have drifted (a hand-made index, a column someone added). This
reads only; it says *that* a member differs, `inv db.validate --target NAME` says how.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbtasks.fleet.matrix import Row

# `q` is the schema's name as definitions spell it, removed from each of them.
SHAPES = """
WITH s AS (
  SELECT oid, nspname, quote_ident(nspname) || '.' AS q FROM pg_namespace
  WHERE nspname = ANY(%s)
), parts AS (
  SELECT s.nspname, concat_ws(' ', 'c', c.relname, c.relkind, a.attname,
    replace(format_type(a.atttypid, a.atttypmod), s.q, ''), a.attnotnull,
    replace(pg_get_expr(d.adbin, d.adrelid), s.q, '')) AS part
  FROM s JOIN pg_class c ON c.relnamespace = s.oid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  UNION ALL
  SELECT s.nspname, 'i ' || replace(pg_get_indexdef(i.indexrelid), s.q, '')
  FROM s JOIN pg_class c ON c.relnamespace = s.oid JOIN pg_index i ON i.indrelid = c.oid
  UNION ALL
  SELECT s.nspname, concat_ws(' ', 'k', k.conname, replace(pg_get_constraintdef(k.oid), s.q, ''))
  FROM s JOIN pg_constraint k ON k.connamespace = s.oid
  UNION ALL
  SELECT s.nspname, concat_ws(' ', 'e', t.typname, e.enumsortorder, e.enumlabel)
  FROM s JOIN pg_type t ON t.typnamespace = s.oid JOIN pg_enum e ON e.enumtypid = t.oid
)
SELECT nspname, md5(string_agg(part, E'\\n' ORDER BY part)) FROM parts GROUP BY nspname
"""


def shapes(cur: Any, schemas: Iterable[str]) -> dict[str, str]:
    """Each schema's shape hash (a schema with nothing in it has none)."""
    cur.execute(SHAPES, (sorted(set(schemas)),))
    return {str(name): str(digest) for name, digest in cur.fetchall()}


def mark(rows: Sequence[Row]) -> None:
    """Set `drift` on every row that can be compared: "same" when it has the shape most
    members at its revision have, what it differs from when it has not."""
    by_revision: dict[tuple[str, ...], list[Row]] = defaultdict(list)
    for row in rows:
        if row.shape is not None and row.current and not row.unknown and row.error is None:
            by_revision[row.current].append(row)
    for current, group in by_revision.items():
        if len(group) < 2:
            continue
        counts = Counter(row.shape for row in group).most_common()
        top, many = counts[0]
        tied = len(counts) > 1 and counts[1][1] == many
        for row in group:
            if tied:
                row.drift = f"no common shape at {', '.join(current)}"
            elif row.shape == top:
                row.drift = "same"
            else:
                row.drift = f"differs from {many} at {', '.join(current)}"
