"""What a history expects of its server, read from its revision files without running them:
which extensions and roles it creates itself, and whether it relies on what Supabase
provides (the `auth` and `extensions` schemas, Supabase's roles). `db.adopt` recommends
`DB_BASELINE` from it.

Python is read with `ast`; the SQL in its string literals with Postgres' own parser.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPABASE_SCHEMAS = frozenset({"auth", "extensions", "storage"})
SUPABASE_ROLES = frozenset({"anon", "authenticated", "service_role"})


@dataclass
class Habits:
    creates_extensions: set[str] = field(default_factory=set)
    creates_roles: set[str] = field(default_factory=set)
    relies_on: set[str] = field(default_factory=set)  # Supabase schemas and roles it uses

    @property
    def baseline(self) -> str:
        """`supabase` when it relies on Supabase's objects without creating them itself."""
        provided = self.relies_on - self.creates_roles
        return "supabase" if provided else "none"

    def why(self) -> str:
        if self.baseline == "supabase":
            return f"it uses {', '.join(sorted(self.relies_on))} without creating them"
        if self.creates_extensions:
            return f"it creates {', '.join(sorted(self.creates_extensions))} itself"
        return "it uses nothing Supabase provides"


def read(paths: Iterable[Path]) -> Habits:
    found = Habits()
    for path in paths:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue  # a broken file is reported by the history check, not here
        for node in ast.walk(tree):
            _python(node, found)
    return found


def _python(node: ast.AST, found: Habits) -> None:
    if isinstance(node, ast.keyword) and node.arg and "schema" in node.arg:
        value = node.value
        if isinstance(value, ast.Constant) and value.value in SUPABASE_SCHEMAS:
            found.relies_on.add(str(value.value))
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value.strip()
        first = text.split(".", 1)[0]
        if "." in text and first in SUPABASE_SCHEMAS and " " not in text:
            found.relies_on.add(first)  # ForeignKey("auth.users.id")
        elif " " in text:
            _sql(text, found)


def _sql(text: str, found: Habits) -> None:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(text)
    except ParseError:
        return  # not SQL: a message, a docstring
    for statement in statements:
        for node in _nodes(statement.stmt):
            _statement_node(node, found)


def _statement_node(node: Any, found: Habits) -> None:
    kind = type(node).__name__
    if kind == "CreateExtensionStmt":
        found.creates_extensions.add(str(node.extname))
    elif kind == "CreateRoleStmt":
        found.creates_roles.add(str(node.role))
    elif kind == "RangeVar" and node.schemaname in SUPABASE_SCHEMAS:
        found.relies_on.add(str(node.schemaname))
    elif kind == "FuncCall":
        names = [getattr(n, "sval", "") for n in node.funcname or ()]
        if len(names) > 1 and names[0] in SUPABASE_SCHEMAS:
            found.relies_on.add(names[0])
    elif kind == "RoleSpec" and node.rolename in SUPABASE_ROLES:
        found.relies_on.add(str(node.rolename))


def _nodes(node: Any) -> Iterator[Any]:
    """Every pglast node under `node`, itself included."""
    from pglast.ast import Node

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, tuple | list):
            stack.extend(current)
        elif isinstance(current, Node):
            yield current
            fields: tuple[str, ...] = getattr(type(current), "__slots__", ())
            stack.extend(getattr(current, name) for name in fields)
