"""What one SQL statement does, read from Postgres' own parse tree (pglast).

Only the statement's top node is read: its kind, the tables or indexes it names and a
flag or two. The parser has already folded unquoted names to lower case, undone quotes,
escapes and comments, and kept dollar-quoted bodies as strings, so a name here is the
name Postgres would look up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from pglast import ast
from pglast.enums import ObjectType, ReindexObjectType, TransactionStmtKind, VariableSetKind


@dataclass(frozen=True)
class Name:
    """A schema-qualified name as Postgres folds it: unquoted parts lower-cased."""

    name: str
    schema: str | None = None

    def within(self, schema: str | None) -> Name:
        """Where an unqualified name lands: the first schema of the search_path."""
        return self if self.schema or schema is None else Name(self.name, schema)


class Action(NamedTuple):
    """What one statement does, as far as lint needs to know."""

    verb: str = ""  # what kind of statement: "alter table", "create index", "begin", ...
    tables: tuple[Name, ...] = ()  # the tables it acts on (creates, alters, drops, writes)
    indexes: tuple[Name, ...] = ()  # the indexes it acts on (DROP INDEX, REINDEX INDEX)
    new_index: Name | None = None  # the index it creates
    renamed: Name | None = None  # the table's new name (ALTER TABLE t RENAME TO n)
    robust: bool = False  # IF NOT EXISTS: what it creates may have been there already
    search_path: tuple[str, ...] = ()


def action(sql: str) -> Action:
    """What `sql`, one statement, does; nothing known when Postgres' parser rejects it."""
    from pglast import parse_sql, parser

    try:
        parsed = parse_sql(sql)
    except parser.ParseError:
        return Action()
    if len(parsed) != 1:
        return Action()
    return read(parsed[0].stmt)


def read(node: ast.Node | None) -> Action:
    """What a statement's parse tree does."""
    reader = _READERS.get(type(node))
    return reader(node) if reader is not None else Action()


def _tables(*nodes: ast.RangeVar | None) -> tuple[Name, ...]:
    """The names of a statement's relations, those it has."""
    return tuple(Name(n.relname, n.schemaname) for n in nodes if n is not None and n.relname)


def _names(objects: tuple[Any, ...] | None) -> tuple[Name, ...]:
    """DROP's objects: each a list of name parts, the last the object's own."""
    found = []
    for obj in objects or ():
        parts = [str(part.sval) for part in obj if isinstance(part, ast.String)]
        if parts:
            found.append(Name(parts[-1], parts[-2] if len(parts) > 1 else None))
    return tuple(found)


def _create_table(node: ast.CreateStmt) -> Action:
    return Action("create table", _tables(node.relation), robust=bool(node.if_not_exists))


def _create_table_as(node: ast.CreateTableAsStmt) -> Action:
    if node.objtype != ObjectType.OBJECT_TABLE or node.into is None:  # a MATERIALIZED VIEW
        return Action()
    return Action("create table", _tables(node.into.rel), robust=bool(node.if_not_exists))


def _create_index(node: ast.IndexStmt) -> Action:
    index = Name(node.idxname) if node.idxname else None  # an index lives beside its table
    tables = _tables(node.relation)
    return Action("create index", tables, new_index=index, robust=bool(node.if_not_exists))


def _create_schema(node: ast.CreateSchemaStmt) -> Action:
    return Action("create schema", robust=bool(node.if_not_exists))


def _alter_table(node: ast.AlterTableStmt) -> Action:
    if node.objtype != ObjectType.OBJECT_TABLE:  # ALTER INDEX, VIEW, SEQUENCE share the node
        return Action()
    return Action("alter table", _tables(node.relation))


# ALTER TABLE t RENAME [COLUMN] a TO b and RENAME CONSTRAINT a TO b: the table stays t.
_TABLE_PARTS = (ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABCONSTRAINT)
_ON_TABLE = (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_ACCESS_METHOD)  # the latter: unset


def _rename(node: ast.RenameStmt) -> Action:
    tables = _tables(node.relation)
    if node.renameType == ObjectType.OBJECT_TABLE and node.newname:
        return Action("alter table", tables, renamed=Name(node.newname))
    if node.renameType in _TABLE_PARTS and node.relationType in _ON_TABLE:
        return Action("alter table", tables)
    return Action()


def _set_schema(node: ast.AlterObjectSchemaStmt) -> Action:
    """ALTER TABLE t SET SCHEMA s: t, under another name."""
    tables = _tables(node.relation)
    if node.objectType != ObjectType.OBJECT_TABLE or not tables or not node.newschema:
        return Action()
    return Action("alter table", tables, renamed=Name(tables[0].name, node.newschema))


def _drop(node: ast.DropStmt) -> Action:
    if node.removeType == ObjectType.OBJECT_TABLE:
        return Action("drop table", _names(node.objects))
    if node.removeType == ObjectType.OBJECT_INDEX:
        return Action("drop index", indexes=_names(node.objects))
    return Action()


def _truncate(node: ast.TruncateStmt) -> Action:
    return Action("truncate", _tables(*(node.relations or ())))


def _reindex(node: ast.ReindexStmt) -> Action:
    names = _tables(node.relation)  # none for REINDEX SCHEMA, DATABASE, SYSTEM
    if node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
        return Action("reindex", indexes=names)
    if node.kind == ReindexObjectType.REINDEX_OBJECT_TABLE:
        return Action("reindex", names)
    return Action("reindex")


_PATH_KINDS = (
    VariableSetKind.VAR_SET_VALUE,
    VariableSetKind.VAR_SET_DEFAULT,
    VariableSetKind.VAR_RESET,
)


def _set(node: ast.VariableSetStmt) -> Action:
    """SET search_path (SET SCHEMA is one too); TO DEFAULT and RESET leave no schema known."""
    if node.name != "search_path" or node.kind not in _PATH_KINDS:
        return Action("set")
    schemas = tuple(
        arg.val.sval
        for arg in node.args or ()
        if isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String) and arg.val.sval
    )
    return Action("set search_path", search_path=schemas)


_TRANSACTION = {
    TransactionStmtKind.TRANS_STMT_BEGIN: "begin",
    TransactionStmtKind.TRANS_STMT_START: "begin",
    TransactionStmtKind.TRANS_STMT_COMMIT: "commit",  # END too
}


def _transaction(node: ast.TransactionStmt) -> Action:
    return Action(_TRANSACTION.get(node.kind, "") if node.kind is not None else "")


def _writes(verb: str) -> Callable[[Any], Action]:
    """INSERT, UPDATE, DELETE: the table written (a WITH clause before it aside)."""
    return lambda node: Action(verb, _tables(node.relation))


# Each statement kind that lint tells apart, and what reads it.
_READERS: dict[type[Any], Callable[[Any], Action]] = {
    ast.CreateStmt: _create_table,
    ast.CreateTableAsStmt: _create_table_as,
    ast.IndexStmt: _create_index,
    ast.CreateSchemaStmt: _create_schema,
    ast.AlterTableStmt: _alter_table,
    ast.RenameStmt: _rename,
    ast.AlterObjectSchemaStmt: _set_schema,
    ast.DropStmt: _drop,
    ast.TruncateStmt: _truncate,
    ast.ReindexStmt: _reindex,
    ast.VariableSetStmt: _set,
    ast.TransactionStmt: _transaction,
    ast.InsertStmt: _writes("insert into"),
    ast.UpdateStmt: _writes("update"),
    ast.DeleteStmt: _writes("delete from"),
}
