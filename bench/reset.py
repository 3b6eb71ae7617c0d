"""Reset and per-test databases, side by side with the alternatives, in one run.

    python bench/reset.py [--revisions 500] [--runs 5] [--tests 15]

Takes about two minutes: cloning a database of 500 tables costs ~0.5 s, each way.

1. `inv db.reset --yes` against raw Alembic (`alembic downgrade base && alembic upgrade
   head` with a stock env.py), both on the same history of N revisions. Target <= 0.25x.
2. The pytest plugin's per-test database (a test asking for `dbtasks_database`, minus the
   same test without it) against a bare `CREATE DATABASE ... TEMPLATE` + `DROP DATABASE`
   on an open connection. Target <= 1.5x.

Prints median times and ratios; exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import alembic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import report, run, time_command
from dbtasks import pg, snapshot
from dbtasks.console import Console
from dbtasks.stack.native import NativeStack
from tests.projects import INV, SMALL_MODELS, write_chain
from tests.support import REPO, free_port, make_settings, scratch_dir

PASSWORD = "benchpass"
# The logging sections of Alembic's stock alembic.ini, which its stock env.py loads.
STOCK_LOGGING = """
[loggers]
keys = root,sqlalchemy,alembic
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
qualname =
[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine
[logger_alembic]
level = INFO
handlers =
qualname = alembic
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %%(levelname)-5.5s [%%(name)s] %%(message)s
"""
STOCK_ENV = Path(str(alembic.__file__)).parent / "templates" / "generic" / "env.py"


def ours_project(root: Path, revisions: int) -> Path:
    project = root / "ours"
    (project / "alembic" / "versions").mkdir(parents=True)
    shutil.copy(REPO / "alembic.ini", project / "alembic.ini")
    shutil.copy(REPO / "tasks.py", project / "tasks.py")
    for name in ("env.py", "script.py.mako"):
        shutil.copy(REPO / "alembic" / name, project / "alembic" / name)
    (project / "bench_models.py").write_text(SMALL_MODELS)
    (project / "pyproject.toml").write_text(
        '[tool.dbtasks]\nmetadata = "bench_models:metadata"\nschema = "app"\n'
    )
    write_chain(project / "alembic" / "versions", revisions)
    return project


def raw_project(root: Path, revisions: int, port: int) -> Path:
    project = root / "raw"
    (project / "alembic" / "versions").mkdir(parents=True)
    shutil.copy(STOCK_ENV, project / "alembic" / "env.py")
    shutil.copy(REPO / "alembic" / "script.py.mako", project / "alembic" / "script.py.mako")
    url = f"postgresql+psycopg2://postgres:{PASSWORD}@127.0.0.1:{port}/rawdb"
    (project / "alembic.ini").write_text(
        f"[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = {url}\n{STOCK_LOGGING}"
    )
    write_chain(project / "alembic" / "versions", revisions)
    return project


def bench_reset(root: Path, env: dict[str, str], args: argparse.Namespace, port: int) -> bool:
    ours = ours_project(root, args.revisions)
    raw = raw_project(root, args.revisions, port)
    run([*INV, "db.reset", "--yes"], ours, env)  # builds the snapshot once
    with pg.maintenance(make_endpoint(port)) as cur:
        pg.create_database(cur, "rawdb")
    alembic = [sys.executable, "-m", "alembic"]
    run([*alembic, "upgrade", "head"], raw, env)
    raw_cycle = [
        "sh",
        "-c",
        f"{sys.executable} -m alembic downgrade base && {sys.executable} -m alembic upgrade head",
    ]
    theirs = time_command(raw_cycle, raw, env, max(1, args.runs // 2))
    mine = time_command([*INV, "db.reset", "--yes"], ours, env, args.runs)
    return report(
        f"inv db.reset --yes vs raw alembic ({args.revisions} revisions)", mine, theirs, 0.25
    )


def bench_plugin(root: Path, env: dict[str, str], args: argparse.Namespace, port: int) -> bool:
    ours = root / "ours"
    (ours / "test_with.py").write_text(
        "".join(f"def test_{i}(dbtasks_database):\n    pass\n\n\n" for i in range(args.tests))
    )
    (ours / "test_without.py").write_text(
        "".join(f"def test_{i}():\n    pass\n\n\n" for i in range(args.tests))
    )
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    with_db = time_command([*pytest, "test_with.py"], ours, env, args.runs)
    without = time_command([*pytest, "test_without.py"], ours, env, args.runs)
    per_test = (with_db - without) / args.tests
    settings = make_settings(
        ours,
        DB_PORT=port,
        DB_PASS=PASSWORD,
        DB_SCHEMA="app",
        DB_METADATA="bench_models:metadata",
        DB_DATA_DIR=root / "pgdata",
    )
    from dbtasks.adapter.workspace import Workspace

    where = Workspace.open(settings).state.where
    name = snapshot.snapshot_name(
        settings.endpoint.database, snapshot.fingerprint(settings, True, where)
    )
    bare = bare_clone(port, name, args.tests)
    return report(
        "plugin per-test database vs bare CREATE ... TEMPLATE + DROP", per_test, bare, 1.5
    )


def bare_clone(port: int, template: str, count: int) -> float:
    samples = []
    with pg.maintenance(make_endpoint(port)) as cur:
        for i in range(count):
            started = time.perf_counter()
            cur.execute(f'CREATE DATABASE "bare_{i}" TEMPLATE "{template}"')
            cur.execute(f'DROP DATABASE "bare_{i}"')
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def make_endpoint(port: int):  # type: ignore[no-untyped-def]
    from dbtasks.target import Endpoint

    return Endpoint("127.0.0.1", port, "postgres", PASSWORD, "postgres")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tests", type=int, default=15)
    args = parser.parse_args()
    port = free_port()
    with scratch_dir("bench-reset") as root:
        settings = make_settings(root, DB_PORT=port, DB_PASS=PASSWORD)
        stack = NativeStack(settings)
        stack.up(Console())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
        env.update(
            DB_PORT=str(port),
            DB_PASS=PASSWORD,
            DB_DATA_DIR=str(root / "pgdata"),
            DB_SEEDS="seeds/*.sql",
        )
        try:
            ok = bench_reset(root, env, args, port)
            ok &= bench_plugin(root, env, args, port)
        finally:
            stack.destroy()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
