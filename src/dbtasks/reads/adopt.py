"""`db.adopt`: what an existing Alembic project and its database need before dbtasks runs
them. It reads and reports; only `--stamp` changes anything (through `db.stamp`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dbtasks.migrations.version_table import elsewhere
from dbtasks.workflow import Work

ENV_RUNTIME = "dbtasks runtime"
ENV_PLAIN = "plain (as `alembic init` writes it)"
ENV_CUSTOM = "custom"


@dataclass
class Adoption:
    env_py: str
    env_problem: str | None  # why env.py does not run, when it does not
    version_folders: list[str]
    revisions: int
    heads: list[str]
    models: str | None
    version_table: str
    other_version_tables: list[str]  # outside the configured place: not this project's, yet
    current: list[str]
    unknown: list[str]
    tables: int
    baseline: str  # as configured
    baseline_recommended: str
    baseline_why: str
    lint_from: str | None
    database: str = "answers"  # or "does not answer": then only the files were read
    next_steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def adopt(work: Work) -> Adoption:
    """What the project and its database need (read from both, nothing changed)."""
    from dbtasks.adapter.offline import check_env
    from dbtasks.migrations import habits
    from dbtasks.migrations.version_table import configured

    settings = work.settings
    answered = work.current_if_answering(check=False)  # a new project's stack is not up yet
    current = answered or ()
    version = configured(settings) if answered is None else work.version
    expects = habits.read(Path(r.path) for r in work.graph.walk())
    found = Adoption(
        env_py=classify_env(work.ws.script_dir),
        env_problem=check_env(work.ws),
        version_folders=[work.ws.relpath(p) for p in work.locations.folders],
        revisions=len(work.graph),
        heads=list(work.graph.heads),
        models=settings.metadata,
        version_table=f"{version.schema}.{version.table}",
        other_version_tables=[]
        if answered is None
        else [f"{v.schema}.{v.table}" for v in elsewhere(work.cur, settings)],
        current=list(current),
        unknown=work.graph.unknown(current),
        tables=0 if answered is None else _count_tables(work.cur, settings.schema, version.table),
        baseline=settings.baseline,
        baseline_recommended=expects.baseline,
        baseline_why=expects.why(),
        lint_from=settings.lint_from,
        database="answers" if answered is not None else "does not answer",
    )
    found.next_steps = _next_steps(found)
    return found


def classify_env(script_dir: Path) -> str:
    """Whose env.py this is: it decides what dbtasks can do for it."""
    env = script_dir / "env.py"
    text = env.read_text(encoding="utf-8") if env.is_file() else ""
    if re.search(r"^\s*from dbtasks\.adapter\.runtime import", text, re.MULTILINE):
        return ENV_RUNTIME
    if "engine_from_config" in text and "context.configure(" in text:
        return ENV_PLAIN
    return ENV_CUSTOM


def _count_tables(cur: Any, schema: str, version_table: str) -> int:
    cur.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename <> %s",
        (schema, version_table),
    )
    return int(cur.fetchone()[0])


def _next_steps(found: Adoption) -> list[str]:
    steps = []
    if found.env_problem:
        steps.append(f"env.py does not run: {found.env_problem}; every command runs it")
    if found.baseline != found.baseline_recommended:
        steps.append(
            f"set DB_BASELINE={found.baseline_recommended} (baseline = "
            f'"{found.baseline_recommended}" in [tool.dbtasks]): {found.baseline_why}'
        )
    if found.current and not found.lint_from and not found.unknown:
        steps.append(
            f"db.validate lints every revision; to lint only those after the ones this database "
            f"already has, set DB_LINT_FROM={found.current[-1]}"
        )
    if found.env_py == ENV_CUSTOM:
        steps.append(
            "env.py is custom: hand over to dbtasks' runtime (docs/adopting.md) or make sure "
            "it reads the connection from config.attributes['connection']"
        )
    if not found.models:
        steps.append("no models configured: everything works but autogenerate (set DB_METADATA)")
    if found.database != "answers":
        steps.append(
            "the database does not answer yet: `inv db.upgrade` starts the stack, creates the "
            "database and builds it; to check an existing one first, `inv stack.up` and "
            "`inv db.adopt` again"
        )
    elif found.unknown:
        steps.append(
            f"the database is at {', '.join(found.unknown)}, which no revision file defines: "
            "check out the code that has it, or `inv db.adopt --stamp REV --purge`"
        )
    elif not found.current and found.other_version_tables:
        other = found.other_version_tables[0]
        steps.append(
            f"{other} records a history outside DB_SCHEMA: if it is this project's, set "
            f"DB_VERSION_SCHEMA={other.split('.')[0]}; dbtasks never adopts another "
            "schema's history on its own"
        )
    elif not found.current and found.tables:
        steps.append(
            f"the schema holds {found.tables} table(s) but no version table: it was made "
            "another way; find the revision it matches, then `inv db.adopt --stamp REV`"
        )
    elif not found.current:
        steps.append("the database is empty: `inv db.upgrade` builds it")
    elif set(found.current) != set(found.heads):
        steps.append("the database is behind: `inv db.upgrade`")
    else:
        steps.append("the database is at head: nothing to do")
    return steps
