"""Start-up: what every `inv` run pays before doing anything.

`inv --list` with dbtasks' task tree against `inv --list` with a one-task `tasks.py`, and
`inv stack.up` on a running cluster (the pre-step of every db task) against the former.
"""

from __future__ import annotations

from bench import proc
from bench.context import Bench
from bench.harness import Case, Ratio, Side
from bench.project import IMPORTS_TASK, make_one_task_project

DATABASE = "startup"
FLOOR_START = "floor-start"


def start_floor(b: Bench) -> Side:
    """The least any `inv` task that runs a revision can cost, whatever it does: Invoke's
    start with a one-task `tasks.py` importing what a revision run needs, running nothing.
    Beside a target, it says whether the target leaves room for any work at all."""
    root = b.root / "floor-start"
    if not root.exists():
        make_one_task_project(root, IMPORTS_TASK)

    def run() -> None:
        result = proc.run([*proc.INV, "imports"], root, b.env({}))
        proc.expect(result, "imported", "inv imports (floor-start)")

    return Side(FLOOR_START, "inv imports (one task: Alembic + SQLAlchemy, nothing run)", run)


def startup(b: Bench, n: int) -> Case:
    project = b.project(n)
    one_task = b.root / "one-task"
    if not one_task.exists():
        make_one_task_project(one_task)
    env = b.ours(DATABASE)

    def list_ours() -> None:
        result = proc.run([*proc.INV, "--list"], project.root, env)
        proc.expect(result, "db.upgrade", "inv --list (dbtasks)")

    def list_one() -> None:
        result = proc.run([*proc.INV, "--list"], one_task, env)
        proc.expect(result, "hello", "inv --list (one task)")

    def stack_up() -> None:
        result = proc.run([*proc.INV, "stack.up"], project.root, env)
        proc.expect(result, "already running", "inv stack.up")

    sides = (
        Side("dbtasks", "inv --list (dbtasks)", list_ours),
        Side("one-task", "inv --list (one-task tasks.py)", list_one),
        Side("stack-up", "inv stack.up (running)", stack_up),
    )
    ratios = (Ratio("dbtasks", "one-task", 1.3), Ratio("stack-up", "dbtasks", 1.5))

    def setup() -> None:
        # `stack.up` creates a missing database: that must not happen in a timed run.
        if not b.server.exists(DATABASE):
            b.server.recreate(DATABASE)

    return Case("startup", None, sides, ratios, setup)
