"""The checks that build a schema on a scratch database: round trip and drift.

One scratch database serves both: the upward pass applies one revision at a time and
describes the schema before each (for the round trip), and captures the SQL each revision
sends (for linting revisions that cannot render offline SQL); drift compares the models
with the schema at head; the downward pass undoes one revision at a time and compares.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbtasks.validate import Finding, fail, warn

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.adapter.workspace import Workspace
    from dbtasks.grants import Grant
    from dbtasks.migrations.graph import Revision

# The documented marker: a revision whose downgrade cannot restore what its upgrade
# removed sets this module-level variable (a reason, or True).
IRREVERSIBLE = "dbtasks_irreversible"


@dataclass
class Pass:
    """What the upward pass leaves for the other checks."""

    before: dict[str, Any] = field(default_factory=dict)  # revision -> schema before it
    sql: dict[str, list[str]] = field(default_factory=dict)  # revision -> statements sent


def _describe(connection: Connection, ws: Workspace) -> Any:
    from dbtasks.catalog import describe

    raw: Any = connection.connection.dbapi_connection
    cur = raw.cursor()
    try:
        found = describe(cur, [ws.settings.schema])
    finally:
        cur.close()
    connection.commit()
    return found


def _one(
    ws: Workspace, connection: Connection, revision: Revision, upgrade: bool, grant: Grant
) -> None:
    from dbtasks.adapter.run import migrate

    migrate(ws, connection, revision.id, [revision], lambda step: None, grant, upgrade)


@contextmanager
def _capturing(connection: Connection, into: list[str]) -> Iterator[None]:
    from sqlalchemy import event

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        # What the server received, parameters in place; reads (a revision's own SELECTs,
        # SQLAlchemy's catalog queries) change nothing and are not linted.
        if statement.lstrip().upper().startswith(("SELECT", "SHOW", "WITH")):
            return
        text = cursor.mogrify(statement, parameters) if parameters else statement
        into.append(text.decode() if isinstance(text, bytes) else text)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(connection, "before_cursor_execute", record)


def upward(
    ws: Workspace, connection: Connection, order: list[Revision], grant: Grant, shapes: bool
) -> Pass:
    """Apply `order` one revision at a time, recording what the other checks need."""
    from dbtasks.adapter.runtime import prepare_connection

    prepare_connection(connection, ws.settings, grant)  # as every run does, before any
    found = Pass()
    for revision in order:
        if shapes:
            found.before[revision.id] = _describe(connection, ws)
        statements: list[str] = []
        with _capturing(connection, statements):
            _one(ws, connection, revision, True, grant)
        found.sql[revision.id] = statements
    return found


# A history whose downgrades fail often is still checked past them, but not forever.
MAX_REBUILDS = 25


class Scratchpad:
    """The scratch database's connection, and a way to start it afresh at a point of the
    history: the round trip goes on past a downgrade that fails or loses something."""

    def __init__(self, scratch: Any) -> None:
        from dbtasks import pg

        self.scratch = scratch
        self.connection: Connection = pg.engine(scratch.settings.endpoint).connect()
        self.rebuilds = 0

    def close(self) -> None:
        self.connection.close()

    def rebuild(self, ws: Workspace, applied: list[Revision]) -> None:
        """A new empty scratch database (same name), with `applied` applied in order."""
        from dbtasks import pg
        from dbtasks.adapter.runtime import prepare_connection

        self.connection.close()
        ep, grant = self.scratch.settings.endpoint, self.scratch.grant
        with pg.maintenance(ep) as cur:
            pg.drop_database(cur, ep.database, grant)
            pg.create_database(cur, ep.database, grant)
        self.connection = pg.engine(ep).connect()
        prepare_connection(self.connection, ws.settings, grant)
        for revision in applied:
            _one(ws, self.connection, revision, True, grant)
        self.rebuilds += 1


def downward(
    ws: Workspace, pad: Scratchpad, order: list[Revision], up: Pass, grant: Grant
) -> list[Finding]:
    """Undo one revision at a time; after each, the schema must be what it was before it.
    A downgrade that fails, or does not restore that schema, is a finding; the database is
    then rebuilt from the revisions before it and the round trip goes on below."""
    findings: list[Finding] = []
    for index in range(len(order) - 1, -1, -1):
        revision = order[index]
        finding = _undo(ws, pad.connection, revision, up, grant)
        if finding is None:
            continue
        findings.append(finding)
        if index == 0:
            break
        if pad.rebuilds >= MAX_REBUILDS:
            findings.append(
                warn(
                    f"round trip stopped after {pad.rebuilds} rebuilds: the {index} "
                    "revision(s) below this one were not checked",
                    revision.id,
                    ws.relpath(revision.path),
                )
            )
            break
        pad.rebuild(ws, order[:index])
    return findings


def _undo(
    ws: Workspace, connection: Connection, revision: Revision, up: Pass, grant: Grant
) -> Finding | None:
    """Undo `revision`; the finding when it cannot be undone as it was done."""
    from dbtasks.catalog import diff
    from dbtasks.errors import DbTasksError

    where = (revision.id, ws.relpath(revision.path))
    marker = _module_attr(ws, revision.id, IRREVERSIBLE)
    if marker:
        why = marker if isinstance(marker, str) else "declared irreversible"
        return warn(f"not undone ({why}); checked again below it", *where)
    try:
        _one(ws, connection, revision, False, grant)
    except DbTasksError as exc:
        reason = getattr(exc, "reason", None) or exc.message
        return fail(f"its downgrade fails: {reason}", *where)
    differences = diff(up.before[revision.id], _describe(connection, ws))
    if not differences:
        return None
    shown = "; ".join(differences[:3]) + (" ..." if len(differences) > 3 else "")
    return fail(f"its downgrade does not restore the schema before its upgrade: {shown}", *where)


def drift(ws: Workspace, connection: Connection, grant: Grant) -> list[Finding]:
    """At head, the models and the migrations must describe the same schema."""
    from dbtasks.adapter.autogen import drift as compare

    found = compare(ws, connection, grant)
    findings = [
        fail(f"the models differ from the migrations: {line} (`inv db.revision` writes it)")
        for line in found
    ]
    connection.commit()
    return findings + enum_drift(ws, connection)


def enum_drift(ws: Workspace, connection: Connection) -> list[Finding]:
    """Enum values the models have and the database lacks: autogenerate misses these."""
    from dbtasks.adapter.enums import model_enums
    from dbtasks.adapter.runtime import load_metadata

    labels = _database_enums(connection)
    findings = []
    for name, values in model_enums(load_metadata(ws.settings)).items():
        missing = [v for v in values if name in labels and v not in labels[name]]
        if missing:
            findings.append(
                fail(
                    f"enum {name}: the models add {', '.join(map(repr, missing))}, which no "
                    "migration adds: `inv db.revision` writes the ALTER TYPE ... ADD VALUE"
                )
            )
        extra = [v for v in labels.get(name, []) if v not in values]
        if extra:
            findings.append(
                fail(
                    f"enum {name}: the migrations leave {', '.join(map(repr, extra))}, which "
                    "the models do not have: rebuild the type in a revision (or rename the "
                    "value with ALTER TYPE ... RENAME VALUE)"
                )
            )
    return findings


def _database_enums(connection: Connection) -> dict[str, list[str]]:
    from dbtasks.adapter.enums import enum_labels

    labels = enum_labels(connection)
    connection.commit()
    return labels


def _module_attr(ws: Workspace, revision: str, name: str) -> Any:
    return getattr(ws.module(revision), name, None)
