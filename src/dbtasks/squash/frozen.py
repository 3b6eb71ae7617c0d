"""The replaced history after a squash: which baselines the graph holds, the old files
they replaced (a workspace of their own), and `--catch-up`, which brings a database at a
replaced revision to the squash point through them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import shell
from dbtasks.errors import DbTasksError, Refused
from dbtasks.guard import Intent
from dbtasks.squash import MARKER
from dbtasks.workflow import Flow, Work

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.flows.migrate import Move
    from dbtasks.migrations.journal import Entry
    from dbtasks.migrations.lock import Held
    from dbtasks.migrations.status import MigrationStatus
    from dbtasks.settings import Settings


@dataclass(frozen=True)
class Squashed:
    """A baseline of the graph and what it names."""

    upto: str
    replaces: tuple[str, ...]
    folders: tuple[Path, ...]  # where its replaced files are (those that still exist)
    expected: tuple[Path, ...]  # where they would be
    fingerprint: str
    path: str

    @property
    def pruned(self) -> bool:
        return not self.folders


def baselines(ws: Workspace) -> list[Squashed]:
    """Every squashed baseline of the history, oldest first."""
    found = []
    for revision in reversed(ws.graph.revisions):
        marker: Any = getattr(ws.module(revision.id), MARKER, None)
        if not isinstance(marker, dict):
            continue
        expected = tuple(folder / str(marker["folder"]) for folder in ws.state.where.folders)
        found.append(
            Squashed(
                str(marker["upto"]),
                tuple(marker["replaces"]),
                tuple(f for f in expected if f.is_dir()),
                expected,
                str(marker.get("fingerprint", "")),
                revision.path,
            )
        )
    return found


def applied_before_squash(ws: Workspace, entry: Entry) -> bool:
    """A timing entry of the squash point written when the replaced file (not the baseline,
    which took its id) was applied: not an edit of the baseline. Told by the replaced
    file's checksum while it is kept; once pruned, by not being the baseline's."""
    from dbtasks.migrations.checksums import unchanged

    for squashed in baselines(ws):
        if entry.revision != squashed.upto or not entry.checksum:
            continue
        if squashed.pruned:
            return not unchanged(squashed.path, entry.checksum)
        old = [p for folder in squashed.folders for p in folder.glob("*.py")]
        return any(unchanged(str(p), entry.checksum) for p in old)
    return False


def replacing(ws: Workspace, current: tuple[str, ...]) -> Squashed | None:
    """The baseline that replaced a revision the database is at, if any."""
    for squashed in baselines(ws):
        if any(rev in squashed.replaces and rev != squashed.upto for rev in current):
            return squashed
    return None


def workspace(settings: Settings, squashed: Squashed) -> Workspace:
    """The replaced history as a workspace of its own: the same Alembic configuration,
    with the replaced files' folders as its only version locations."""
    from dbtasks.adapter.workspace import Workspace

    if squashed.pruned:
        raise behind(settings, squashed)
    ws = Workspace.open(settings)
    where = os.pathsep.join(str(f) for f in squashed.folders).replace("%", "%%")
    ws.config.set_main_option("path_separator", "os")
    ws.config.set_main_option("version_locations", where)
    ws.reload()
    return ws


def behind(settings: Settings, squashed: Squashed) -> Refused:
    """A database behind a squash point whose replaced files were pruned: the command that
    brings them back, then the catch-up."""
    folder = squashed.expected[0]
    shown = os.path.relpath(folder, settings.project_root)
    restore = f"git checkout $(git rev-list -n 1 HEAD -- {shown})^ -- {shown}"
    commit = _pruned_in(settings.project_root, shown)
    if commit:
        restore = f"git checkout {commit}^ -- {shown}"
    return Refused(
        f"the database is behind the squash point {squashed.upto}, and the files it needs "
        f"to reach it were pruned from {shown}",
        f"run `{restore} && inv db.squash --catch-up` first",
    )


def _pruned_in(root: Path, folder: str) -> str | None:
    """The commit that deleted `folder`, when git knows it."""
    try:
        result = shell.run(["git", "-C", str(root), "rev-list", "-n", "1", "HEAD", "--", folder])
    except DbTasksError:
        return None
    commit = result.stdout.strip()
    return commit[:12] if result.returncode == 0 and commit else None


class CatchUp(Flow["Move", "MigrationStatus"]):
    """A database at a revision a squash replaced: upgrade it to the squash point with the
    replaced files, after which `db.upgrade` goes on from the baseline."""

    intent = Intent.MIGRATE
    action = "catch up to the squash point"

    def plan(self, work: Work) -> Move:
        from dbtasks.adapter.plan import upgrade_plan
        from dbtasks.flows.migrate import Move

        current = work.current(check=False)
        squashed = replacing(work.ws, current)
        if squashed is None:
            work.current()  # an unknown revision is refused as every command refuses it
            return Move(current, "", ())
        old = self._old(work, squashed)
        return Move(current, squashed.upto, tuple(upgrade_plan(old, current, squashed.upto)))

    def _old(self, work: Work, squashed: Squashed) -> Workspace:
        cached: Workspace | None = getattr(self, "_workspace", None)
        if cached is None:
            cached = workspace(work.settings, squashed)
            self._workspace = cached
        return cached

    def show(self, work: Work, plan: Move) -> bool:
        from dbtasks.flows.migrate import show_revisions

        if not plan.revisions:
            work.console.ok("the database is not behind a squash point: nothing to catch up")
            return False
        title = f"{len(plan.revisions)} replaced revision(s) to reach {plan.target}"
        show_revisions(work.console, title, plan.revisions)
        return True

    def act(self, work: Work, plan: Move, held: Held | None) -> MigrationStatus:
        from dbtasks.flows.migrate import final_status, run

        old = work.on_database(work.settings.endpoint.database, work.grant)
        old.__dict__["ws"] = self._workspace  # the replaced files, on the same database
        with old.resources:
            run(old, plan, held, upgrade=True)
        return final_status(work)

    def idle(self, work: Work, plan: Move) -> MigrationStatus:
        from dbtasks.migrations import status

        return status.compute(work.settings, work.graph, plan.current)
