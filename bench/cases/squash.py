"""`db.upgrade` from empty before and after `db.squash`, and the psql floor of the squash.

The history of N revisions is copied and squashed up to its head once (untimed); then
three sides build an empty database: dbtasks on the whole history, dbtasks on the
squashed one (the baseline has the head's id, so the same at-head check holds), and psql
replaying what `alembic upgrade head --sql` writes for the squashed history, in one
transaction. Targets: after <= 0.1 of before (10 times faster), after <= 1.25 times the floor.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from bench import proc
from bench.cases.migrate import OFFLINE_MARK, _from_empty, alembic_args
from bench.cases.startup import FLOOR_START, start_floor
from bench.checks import CheckFailed
from bench.context import Bench, require_count
from bench.harness import Case, Ratio, Side
from bench.project import Project


def squashed_copy(b: Bench, project: Project) -> Project:
    """The project's copy with its history squashed up to head (done once)."""
    root = project.root.parent / f"{project.root.name}_squashed"
    copy = Project(root, project.history)
    if (root / "floor_squashed.sql").is_file():
        return copy
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(project.root, root, ignore=shutil.ignore_patterns(".dbtasks", "*.sql"))
    result = proc.run(
        [*proc.INV, "db.squash", "--upto", project.history.head], root, b.ours("squash_setup")
    )
    proc.expect(result, "fingerprints equal", "inv db.squash")
    files = sorted(copy.versions.glob("*.py"))
    if len(files) != 1:
        raise CheckFailed(f"after the squash {len(files)} revision files remain, expected 1")
    offline = proc.run(alembic_args(copy, "upgrade", "head", "--sql"), root, b.raw("offline"))
    require_count(offline.stdout.count(OFFLINE_MARK), 1, "alembic upgrade head --sql (squashed)")
    (root / "floor_squashed.sql").write_text(offline.stdout, encoding="utf-8")
    return copy


def squash(b: Bench, n: int) -> Case:
    project = b.project(n)
    state: dict[str, Project] = {}

    def upgrade(which: Callable[[], Project], label: str) -> Callable[[str], None]:
        def run(database: str) -> None:
            result = proc.run([*proc.INV, "db.upgrade"], which().root, b.ours(database))
            proc.expect(result, "applied", label)

        return run

    def floor(database: str) -> None:
        script = state["squashed"].root / "floor_squashed.sql"
        proc.run([*b.server.psql_args(database), "-f", str(script)], project.root, b.raw(database))

    sides: list[Side] = [
        _from_empty(b, project, "before", "inv db.upgrade (N revisions)",
                    upgrade(lambda: project, "inv db.upgrade")),
        _from_empty(b, project, "after", "inv db.upgrade (squashed)",
                    upgrade(lambda: state["squashed"], "inv db.upgrade (squashed)")),
    ]  # fmt: skip
    ratios = [Ratio("after", "before", 0.1)]
    if b.server.psql is not None:
        sides.append(_from_empty(b, project, "squash-floor", "psql -f (squashed SQL)", floor))
        ratios.append(Ratio("after", "squash-floor", 1.25, compare_cpu=False))
        # The bounds of both targets: no runner of the squashed SQL beats psql running
        # it (against 0.1x), and no `inv` task starts in less than the start floor
        # (against the 0.25x of the floor that 1.25x leaves for everything but the SQL).
        sides.append(start_floor(b))
        ratios.append(Ratio("squash-floor", "before", None, compare_cpu=False))
        ratios.append(Ratio(FLOOR_START, "squash-floor", None, compare_cpu=False))

    def setup() -> None:
        state["squashed"] = squashed_copy(b, project)

    return Case("squash", n, tuple(sides), tuple(ratios), setup)
