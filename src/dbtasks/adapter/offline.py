"""SQL without a database: what an upgrade, a downgrade or one revision would send, written
as `alembic upgrade --sql` writes it, or one line naming the revision that cannot."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from dbtasks.adapter.errors import Files, RevisionError, locate, resolving
from dbtasks.adapter.run import error_reason, migration_steps
from dbtasks.errors import DbTasksError

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace


def offline_sql(ws: Workspace, current: tuple[str, ...], target: str, upgrade: bool) -> None:
    """Write the SQL of a range to the Config's output, touching nothing."""
    from alembic import command

    if len(current) > 1:
        raise RevisionError(
            f"offline SQL needs a single current revision, the database has {len(current)}",
            "merge the heads first (`inv db.merge`)",
        )
    from dbtasks.adapter.plan import named

    target = named(target)
    # A range (`base:head`, Alembic's offline syntax) names its own start.
    start = f"{current[0]}:" if current and ":" not in target else ""
    run = command.upgrade if upgrade else command.downgrade
    try:
        with resolving(ws.files):
            run(ws.config, f"{start}{target}", sql=True)
    except DbTasksError:
        raise
    except Exception as exc:
        raise _offline_failure(ws.files, exc) from None


def _offline_failure(files: Files, exc: Exception) -> DbTasksError:
    where = locate(exc, files)
    if where is None:
        return DbTasksError(f"cannot write offline SQL: {error_reason(exc)}")
    reads_rows = "NoneType" in str(exc)  # op.get_bind() offline has no rows to give
    return DbTasksError(
        f"{where} cannot run offline: {error_reason(exc)}",
        "revisions that read rows need a database: apply them with `inv db.upgrade`"
        if reads_rows
        else "this revision needs a database to produce its SQL: apply it with `inv db.upgrade`",
    )


def revision_sql(ws: Workspace, revision: str) -> str:
    """The SQL one revision's upgrade emits offline (as `alembic upgrade --sql` would,
    version table statements included), or an error naming the revision when it cannot
    run without a database."""
    from alembic.runtime.environment import EnvironmentContext

    script = ws.script
    with resolving(ws.files):
        found = script.revision_map.get_revision(revision)
    buffer = io.StringIO()
    saved = ws.config.output_buffer
    ws.config.output_buffer = buffer
    try:
        with EnvironmentContext(
            ws.config,
            script,
            fn=lambda current, context: migration_steps(script, [found], True),
            as_sql=True,
            destination_rev=revision,
        ):
            script.run_env()
    except DbTasksError:
        raise
    except Exception as exc:
        raise _offline_failure(ws.files, exc) from None
    finally:
        ws.config.output_buffer = saved
    return buffer.getvalue()


def check_env(ws: Workspace) -> str | None:
    """Run env.py the way every command will, offline and with no revision to run, so that
    it touches nothing: None when it runs, else one line naming env.py and the error."""
    from alembic.runtime.environment import EnvironmentContext

    from dbtasks.adapter.run import env_at_fault

    saved = ws.config.output_buffer
    ws.config.output_buffer = io.StringIO()
    try:
        with EnvironmentContext(ws.config, ws.script, fn=lambda current, context: [], as_sql=True):
            ws.script.run_env()
    except Exception as exc:
        where = env_at_fault(ws, exc) or "env.py"
        return f"{where}: {error_reason(exc)}"
    finally:
        ws.config.output_buffer = saved
    return None
