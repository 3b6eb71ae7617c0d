"""New revisions: message validation, autogenerate, a summary of what the file does."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.errors import ConfigError, DbTasksError
from dbtasks.migrations.config import CONNECTION_KEY

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.migrations.runner import Workspace

MAX_MESSAGE = 100
_CREATE_ENUM = re.compile(r"CREATE TYPE (\S+) AS ENUM")

# Alembic operation class -> what the summary calls it.
_OP_NAMES = {
    "CreateTableOp": "add table",
    "DropTableOp": "drop table",
    "AddColumnOp": "add column",
    "DropColumnOp": "drop column",
    "AlterColumnOp": "alter column",
    "CreateIndexOp": "add index",
    "DropIndexOp": "drop index",
    "CreateUniqueConstraintOp": "add unique constraint",
    "CreateForeignKeyOp": "add foreign key",
    "CreateCheckConstraintOp": "add check constraint",
    "CreatePrimaryKeyOp": "add primary key",
    "DropConstraintOp": "drop constraint",
    "CreateTableCommentOp": "set table comment",
    "DropTableCommentOp": "drop table comment",
    "ExecuteSQLOp": "execute",
}


@dataclass(frozen=True)
class NewRevision:
    id: str | None
    path: str | None
    operations: list[str]


def validate_message(message: str | None) -> str:
    """A message that makes a sane file name: non-empty, one line, bounded, with a word."""
    text = (message or "").strip()
    if not text:
        raise ConfigError("the revision message is empty", 'pass -m "what the change does"')
    if len(text) > MAX_MESSAGE:
        raise ConfigError(
            f"the revision message is {len(text)} characters long",
            f"keep it under {MAX_MESSAGE}; details belong in the file",
        )
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise ConfigError(
            "the revision message contains a line break or control character", "use one line"
        )
    if not re.search(r"\w", text):
        raise ConfigError(
            f"the revision message {text!r} has no letter or digit to name the file with"
        )
    return text


def autogenerate(ws: Workspace, connection: Connection, message: str) -> NewRevision:
    """Compare models and database; write a revision only if they differ."""
    from alembic import command

    ws.hooks["autogenerate"] = True
    ws.config.attributes[CONNECTION_KEY] = connection
    with _quiet():
        written = command.revision(ws.config, message=message, autogenerate=True)
    operations = summarize(ws.hooks.get("upgrade_ops"))
    script = written[0] if isinstance(written, list) and written else written
    if not script or isinstance(script, list):
        return NewRevision(None, None, [])
    check_imports(script.path)
    ws.reload()
    return NewRevision(script.revision, ws.relpath(script.path), operations)


def empty_revision(ws: Workspace, message: str) -> NewRevision:
    from alembic import command

    with _quiet():
        script = command.revision(ws.config, message=message)
    if not script or isinstance(script, list):
        raise DbTasksError("Alembic wrote no revision file")
    check_imports(script.path)
    ws.reload()
    return NewRevision(script.revision, ws.relpath(script.path), [])


def _quiet() -> contextlib.AbstractContextManager[object]:
    """Alembic announces its post-write hooks on stdout even when quiet; the task reports."""
    return contextlib.redirect_stdout(io.StringIO())


def summarize(upgrade_ops: Any) -> list[str]:
    """One line per operation, e.g. 'add column journal_entries.mood'."""
    if upgrade_ops is None:
        return []
    return [line for op in upgrade_ops.ops for line in _describe(op)]


def _describe(op: Any) -> list[str]:
    if hasattr(op, "ops"):  # ModifyTableOps groups the operations on one table
        return [line for sub in op.ops for line in _describe(sub)]
    kind = _OP_NAMES.get(type(op).__name__, type(op).__name__)
    if kind == "execute":
        enum = _CREATE_ENUM.match(str(op.sqltext))
        return [f"create enum type {enum.group(1)}" if enum else f"execute {op.sqltext}"]
    table = getattr(op, "table_name", None) or getattr(op, "source_table", None)
    column = getattr(getattr(op, "column", None), "name", None) or getattr(op, "column_name", None)
    name = getattr(op, "index_name", None) or getattr(op, "constraint_name", None)
    target = ".".join(str(p) for p in (table, column) if p)
    return [f"{kind} {target}" + (f" ({name})" if name and not column else "")]


def check_imports(path: str) -> None:
    """The written file must import, so that a broken template never reaches upgrade."""
    spec = importlib.util.spec_from_file_location("dbtasks_new_revision", path)
    if spec is None or spec.loader is None:
        raise DbTasksError(f"cannot load the new revision file {path}")
    try:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    except Exception as exc:
        raise DbTasksError(
            f"the new revision file {path} does not import: {exc}", "fix or delete it"
        ) from exc
