"""The task tree: `db.*`, `stack.*` and the developer tasks at the root.

Only light modules are imported here; SQLAlchemy, Alembic and rich load inside the tasks
that use them, so `inv --list` stays fast.
"""

from __future__ import annotations

from invoke.collection import Collection

from dbtasks.tasks import bench, db, dev, stack
from dbtasks.tasks._boundary import (
    quiet_closed_pipe,
    skip_final_collections,
    suggest_task_names,
)

namespace = Collection(dev.test, dev.lint, dev.fmt, bench.bench)
namespace.add_collection(db.namespace)
namespace.add_collection(stack.namespace)
suggest_task_names()
quiet_closed_pipe()
skip_final_collections()
