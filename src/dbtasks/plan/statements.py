"""What one statement the clone received is, read from Postgres' parse tree (pglast).

The tracer sees everything the connection sends: the revision's own statements, and the
runner's and SQLAlchemy's (search_path, the version table, catalog lookups). Only the
revision's are planned; a SELECT is the revision's when it reads a table of its own
(`op.get_bind().execute(...)`), SQLAlchemy's when it reads only the catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_CATALOGS = ("pg_catalog", "information_schema")


@dataclass(frozen=True)
class Kind:
    ignored: bool  # the runner's or SQLAlchemy's, not the revision's
    reads: bool = False  # a SELECT of the revision's own
    node: Any = None  # the parse tree's top node (None: the parser rejected it)
    sets: str | None = None  # SET [LOCAL] name: which setting


@lru_cache(maxsize=4096)
def classify(sql: str, version_table: str) -> Kind:
    from pglast import ast, parse_sql, parser

    try:
        parsed = parse_sql(sql)
    except parser.ParseError:
        return Kind(ignored=False)
    if len(parsed) != 1:
        return Kind(ignored=False)
    node = parsed[0].stmt
    if isinstance(node, ast.TransactionStmt | ast.VariableShowStmt):
        return Kind(ignored=True, node=node)
    if isinstance(node, ast.VariableSetStmt):
        return Kind(ignored=node.name == "search_path", node=node, sets=node.name)
    if isinstance(node, ast.CreateSchemaStmt) and node.if_not_exists:
        return Kind(ignored=True, node=node)
    names = _relations(node)
    if any(name == version_table for _, name in names):
        return Kind(ignored=True, node=node)
    if isinstance(node, ast.SelectStmt):
        own = [n for n in names if not _catalog(*n)]
        return Kind(ignored=not own, reads=bool(own), node=node)
    return Kind(ignored=False, node=node)


def _relations(node: Any) -> list[tuple[str | None, str]]:
    """Every table the statement names, anywhere in its tree."""
    from pglast import ast
    from pglast.visitors import Visitor

    found: list[tuple[str | None, str]] = []

    class Names(Visitor):
        def visit_RangeVar(self, ancestors: Any, rv: ast.RangeVar) -> None:
            if rv.relname:
                found.append((rv.schemaname, rv.relname))

    Names()(node)
    return found


def _catalog(schema: str | None, name: str) -> bool:
    return schema in _CATALOGS or (schema is None and name.startswith("pg_"))


def summary(sql: str, limit: int = 110) -> str:
    """The statement on one line, cut to fit a table cell."""
    line = " ".join(sql.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
