"""Running Alembic in-process on one connection, reporting each revision as it lands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dbtasks.errors import DbTasksError
from dbtasks.migrations.config import CONNECTION_KEY, make_config, script_directory
from dbtasks.migrations.plan import Revision
from dbtasks.migrations.runtime import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

    from dbtasks.settings import Settings

StepCallback = Callable[[Revision], None]


class MigrationFailed(DbTasksError):
    """A revision raised; the ones before it stay applied, it is rolled back."""


@dataclass
class Workspace:
    """One command's Alembic state: built once, reused for every step of the command."""

    settings: Settings
    config: Config
    script: ScriptDirectory
    hooks: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, output: TextIO | None = None) -> Workspace:
        hooks: dict[str, Any] = {}
        config = make_config(settings, output=output, hooks=hooks)
        return cls(settings, config, script_directory(config), hooks)

    def reload(self) -> None:
        """Re-read the scripts after a new revision file was written."""
        self.script = script_directory(self.config)

    def relpath(self, path: str) -> str:
        try:
            return str(Path(path).relative_to(self.settings.project_root))
        except ValueError:
            return path


@contextmanager
def connect(settings: Settings) -> Iterator[Connection]:
    """One connection for the command (no pool: a CLI run uses it once)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(
        settings.endpoint.sqlalchemy_url(),
        poolclass=NullPool,
        connect_args={"application_name": "dbtasks"},
    )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def version_table_exists(connection: Connection, schema: str) -> bool:
    from sqlalchemy import text

    name = f"{connection.dialect.identifier_preparer.quote_schema(schema)}.{VERSION_TABLE}"
    found = connection.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
    connection.commit()
    return found is not None


def current_heads(connection: Connection, schema: str) -> tuple[str, ...]:
    """The revisions recorded in the database's version table (none before the first)."""
    if not version_table_exists(connection, schema):
        return ()
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "version_table_schema": schema}
    )
    heads = tuple(sorted(context.get_current_heads()))
    connection.commit()
    return heads


def migrate(
    ws: Workspace,
    connection: Connection,
    target: str,
    plan: list[Revision],
    on_step: StepCallback,
    upgrade: bool = True,
) -> None:
    """Upgrade (or downgrade) to `target`, calling `on_step` after each revision."""
    from alembic import command

    by_id = {r.id: r for r in plan}
    done: set[str] = set()

    def step(step: Any, **_: Any) -> None:
        # MigrationInfo.up_revision_id names the revision in both directions.
        revision = by_id[step.up_revision_id]
        done.add(revision.id)
        on_step(revision)

    ws.hooks["on_step"] = step
    ws.config.attributes[CONNECTION_KEY] = connection
    try:
        (command.upgrade if upgrade else command.downgrade)(ws.config, target)
    except DbTasksError:
        raise
    except Exception as exc:
        failing = next((r for r in plan if r.id not in done), None)
        raise _failure(ws, failing, len(done), exc, upgrade) from exc
    finally:
        ws.hooks.pop("on_step", None)


def _failure(
    ws: Workspace, failing: Revision | None, done: int, exc: Exception, upgrade: bool
) -> MigrationFailed:
    reason = _reason(exc)
    if failing is None:
        return MigrationFailed(f"migration failed: {reason}")
    verb = "upgrade" if upgrade else "downgrade"
    kept = (
        f"{done} earlier revision(s) stayed applied"
        if upgrade
        else f"{done} revision(s) were undone before it"
    )
    return MigrationFailed(
        f"{verb} of revision {failing.id} ({ws.relpath(failing.path)}) failed and was rolled "
        f"back: {reason}; {kept}",
        f"fix {Path(failing.path).name} and run `inv db.{verb}` again",
    )


def _reason(exc: Exception) -> str:
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(original or exc).__name__}: {first}"


def offline_sql(ws: Workspace, current: tuple[str, ...], target: str, upgrade: bool) -> None:
    """Write the SQL of a range to the Config's output, touching nothing."""
    from alembic import command

    if len(current) > 1:
        raise DbTasksError(
            f"offline SQL needs a single current revision, the database has {len(current)}",
            "merge the heads first (`alembic merge heads`)",
        )
    if upgrade:
        command.upgrade(ws.config, f"{current[0]}:{target}" if current else target, sql=True)
    else:
        command.downgrade(ws.config, f"{current[0]}:{target}", sql=True)
