"""The SQL an upgrade, a downgrade or one revision would run, written to the console's
stdout by Alembic's offline mode: nothing is run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtasks.errors import ConfigError

if TYPE_CHECKING:
    from dbtasks.workflow import Work


def offline_sql(work: Work, target: str, upgrade: bool = True) -> None:
    """From the database's current revision to `target`."""
    from dbtasks.adapter.offline import offline_sql as write
    from dbtasks.adapter.plan import downgrade_plan

    target = target.strip()
    current = work.current()
    if not upgrade and not downgrade_plan(work.ws, current, target):
        return
    write(work.ws, current, target, upgrade)


def revision_sql(work: Work, spec: str) -> None:
    """Only the upgrade of revision `spec` (`db.show --sql`): it needs no database."""
    from dbtasks.adapter.offline import offline_sql as write
    from dbtasks.adapter.plan import resolve

    revision = resolve(work.ws, spec.strip())
    if len(revision.down) > 1:
        raise ConfigError(
            f"{revision.id} merges {len(revision.down)} revisions: its SQL has no single "
            "starting point",
            "show the SQL of the revisions it merges",
        )
    write(work.ws, revision.down, revision.id, upgrade=True)
