"""`python -m bench.fleet`: a fleet command against the loop teams write by hand.

Side by side, in one run, on a native cluster this script starts:
- status and a no-op upgrade over T tenant schemas on one server (budget: 1,000 in 30 s),
  against `alembic current` run per tenant in a loop (timed on a sample, scaled);
- status over D tenant databases (budget: 50 in 5 s);
- 3 targets upgraded with `--parallel 3` against the slowest of them alone (budget 1.2x);
- S tenant schemas with one pending revision at 1, 2, 4 and 8 workers (the speed-up),
  against `alembic upgrade head` per tenant in a loop (a sample, scaled);
- K new tenant databases made by `--create-missing` (template warm) against psql running
  K bare `CREATE DATABASE ... TEMPLATE` (budget 1.5x), and K new tenant schemas copied
  against the same schemas migrated from empty.
Every timed run is checked: each member at head afterwards, by plain SQL.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from dbtasks.console import Console
from dbtasks.settings import Settings
from dbtasks.stack.native import NativeStack
from tests.projects import ScratchProject, make_project, write_chain
from tests.support import destroy, make_settings, scratch_dir, sql

INV = (sys.executable, "-m", "invoke")
ALEMBIC = (sys.executable, "-m", "alembic")
REVISIONS = 20
SAMPLE = 10  # tenants the hand-written loop is timed on


def _url(settings: Settings, database: str) -> str:
    ep = settings.endpoint
    return (
        f"postgresql://{quote(ep.user, safe='')}:{quote(ep.password, safe='')}"
        f"@{ep.host}:{ep.port}/{database}"
    )


class Fleet:
    """A project with tenant schemas, tenant databases and three plain targets."""

    def __init__(self, root: Path, cluster: Settings, tenants: int, databases: int) -> None:
        self.project: ScratchProject = make_project(root, cluster)
        self.cluster = cluster
        self.ids = write_chain(self.project.versions, REVISIONS)
        self.tenants = [f"t{i:04d}" for i in range(tenants)]
        self.databases = [f"tdb_{i:03d}" for i in range(databases)]
        (root / "tenants.txt").write_text("\n".join(self.tenants))
        (root / "dbs.txt").write_text("\n".join(self.databases))
        self._sql("postgres", "CREATE DATABASE fleet_main")
        for name in (*self.databases, "solo_a", "solo_b", "solo_c"):
            self._sql("postgres", f"CREATE DATABASE {name}")
        env = self.project.env
        env["FLEET_URL"] = _url(cluster, "fleet_main")
        for name in ("a", "b", "c"):
            env[f"SOLO_{name.upper()}_URL"] = _url(cluster, f"solo_{name}")
        ep = cluster.endpoint
        template = f"postgresql://{quote(ep.user)}@{ep.host}:{ep.port}/{{tenant}}"
        (root / "pyproject.toml").write_text(
            '[tool.dbtasks]\nschema = "app"\n'
            '[tool.dbtasks.targets.schemas]\nurl_env = "FLEET_URL"\ntenancy = "schema"\n'
            'members_file = "tenants.txt"\n'
            '[tool.dbtasks.targets.dbs]\nurl_env = "FLEET_URL"\ntenancy = "database"\n'
            f'members_file = "dbs.txt"\nurl_template = "{template}"\n'
            + "".join(
                f'[tool.dbtasks.targets.solo_{n}]\nurl_env = "SOLO_{n.upper()}_URL"\n'
                for n in "abc"
            )
        )

    def _sql(self, database: str, statement: str) -> list[tuple[object, ...]]:
        return sql(self.cluster.endpoint, statement, database)

    def inv(self, *args: str) -> float:
        started = time.perf_counter()
        done = subprocess.run(
            [*INV, *args],
            cwd=self.project.root,
            env=self.project.inv_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        took = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"inv {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
        return took

    def raw(self, command: str, tenant: str, database: str = "fleet_main") -> float:
        """`alembic COMMAND` on one tenant schema, as a hand-written loop runs it."""
        env = {**self.project.inv_env(), "DB_NAME": database, "DB_SCHEMA": tenant}
        args = [*ALEMBIC, *command.split()]
        started = time.perf_counter()
        done = subprocess.run(
            args, cwd=self.project.root, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"alembic {command} failed: {done.stderr.strip()[-400:]}")
        return time.perf_counter() - started

    def at(self, database: str, schema: str) -> list[str]:
        found = self._sql(database, f"SELECT to_regclass('{schema}.alembic_version')")
        if found[0][0] is None:
            return []
        rows = self._sql(database, f"SELECT version_num FROM {schema}.alembic_version")
        return [str(r[0]) for r in rows]

    def set_back(self, schemas: Sequence[str], to: int) -> None:
        """Each schema back to revision `to` (untimed): drop the later tables, move the row."""
        later = self.ids[to:]
        statements = []
        for schema in schemas:
            statements += [f"DROP TABLE IF EXISTS {schema}.t{int(r[1:]):03d}" for r in later]
            statements += [
                f"DELETE FROM {schema}.applied_log WHERE rev > '{self.ids[to - 1]}'",
                f"UPDATE {schema}.alembic_version SET version_num = '{self.ids[to - 1]}'",
            ]
        self._sql("fleet_main", ";".join(statements))


def median(runs: int, prepare: Callable[[], None], timed: Callable[[], float]) -> float:
    samples = []
    for _ in range(runs):
        prepare()
        samples.append(timed())
    return statistics.median(samples)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--databases", type=int, default=50)
    parser.add_argument("--pending-tenants", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    with scratch_dir("bench-fleet") as root:
        cluster = make_settings(root / "server", DB_LOCK_TIMEOUT="60")
        (root / "server").mkdir(exist_ok=True)
        stack = NativeStack(cluster)
        stack.up(Console())
        try:
            run(Fleet(root / "project", cluster, args.tenants, args.databases), args)
        finally:
            destroy(stack)
    return 0


def run(fleet: Fleet, args: argparse.Namespace) -> None:
    def nothing() -> None:
        return None

    head = fleet.ids[-1]
    print(f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; {REVISIONS} revisions")
    setup = fleet.inv("db.upgrade", "--target", "schemas,dbs", "--parallel", "4")
    print(f"setup: {args.tenants} schemas + {args.databases} databases from empty: {setup:.1f} s")
    assert all(
        fleet.at("fleet_main", t) == [head] for t in fleet.tenants[:: max(1, args.tenants // 20)]
    )
    status = median(args.reps, nothing, lambda: fleet.inv("db.status", "--target", "schemas"))
    noop = median(args.reps, nothing, lambda: fleet.inv("db.upgrade", "--target", "schemas"))
    sample = [fleet.raw("current", t) for t in fleet.tenants[:SAMPLE]]
    loop = statistics.median(sample) * args.tenants
    print(
        f"status, {args.tenants} schemas: {status:.2f} s (budget 30 s); no-op upgrade {noop:.2f} s"
    )
    print(
        f"  alembic current per tenant: {statistics.median(sample):.3f} s each, "
        f"{loop:.0f} s for {args.tenants} (scaled from {SAMPLE}); ratio {status / loop:.3f}"
    )
    dbs = median(args.reps, nothing, lambda: fleet.inv("db.status", "--target", "dbs"))
    print(f"status, {args.databases} databases: {dbs:.2f} s (budget 5 s)")
    three(fleet, args.reps)
    workers(fleet, args)
    # What start-up costs, spread over more tenants: 1, 10 and 50 at the default scale.
    for count in sorted({1, min(10, args.databases), args.databases}):
        new_databases(fleet, args.reps, count)
    new_schemas(fleet, args.reps, min(10, args.tenants))


def three(fleet: Fleet, reps: int) -> None:
    def empty() -> None:
        for name in "abc":
            fleet._sql(f"solo_{name}", "DROP SCHEMA IF EXISTS app CASCADE")

    single = median(reps, empty, lambda: fleet.inv("db.upgrade", "--target", "solo_a"))
    together = median(
        reps,
        empty,
        lambda: fleet.inv("db.upgrade", "--target", "solo_a,solo_b,solo_c", "--parallel", "3"),
    )
    print(
        f"3 targets from empty, --parallel 3: {together:.2f} s; one alone {single:.2f} s; "
        f"ratio {together / single:.2f} (budget 1.2)"
    )


def workers(fleet: Fleet, args: argparse.Namespace) -> None:
    chosen = fleet.tenants[: args.pending_tenants]
    (fleet.project.root / "pending.txt").write_text("\n".join(chosen))
    with (fleet.project.root / "pyproject.toml").open("a") as out:
        out.write(
            '[tool.dbtasks.targets.pending]\nurl_env = "FLEET_URL"\ntenancy = "schema"\n'
            'members_file = "pending.txt"\n'
        )
    back = REVISIONS - 1
    base = None
    for count in (1, 2, 4, 8):
        took = median(
            args.reps,
            lambda: fleet.set_back(chosen, back),
            functools.partial(
                fleet.inv, "db.upgrade", "--target", "pending", "--parallel", str(count)
            ),
        )
        base = base or took
        print(
            f"{len(chosen)} schemas, one pending, {count} worker(s): {took:.2f} s; "
            f"speed-up {base / took:.2f}x"
        )
    fleet.set_back(chosen[:SAMPLE], back)
    sample = [fleet.raw("upgrade head", t) for t in chosen[:SAMPLE]]
    print(
        f"  alembic upgrade head per tenant: {statistics.median(sample):.3f} s each, "
        f"{statistics.median(sample) * len(chosen):.0f} s for {len(chosen)} (scaled)"
    )


def _fresh(fleet: Fleet, name: str, tenancy: str, members: Sequence[str]) -> None:
    """A tenant set `name` of `members`, none of which exists yet."""
    (fleet.project.root / f"{name}.txt").write_text("\n".join(members))
    ep = fleet.cluster.endpoint
    where = f"postgresql://{quote(ep.user)}@{ep.host}:{ep.port}/{{tenant}}"
    extra = f'url_template = "{where}"\n' if tenancy == "database" else ""
    with (fleet.project.root / "pyproject.toml").open("a") as out:
        out.write(
            f'[tool.dbtasks.targets.{name}]\nurl_env = "FLEET_URL"\ntenancy = "{tenancy}"\n'
            f'members_file = "{name}.txt"\n{extra}'
        )


def new_databases(fleet: Fleet, reps: int, count: int) -> None:
    from dbtasks.stack.binaries import find_binaries

    name = f"fresh{count}"
    made = [f"{name}_{i:03d}" for i in range(count)]
    _fresh(fleet, name, "database", made)

    def drop() -> None:
        for database in made:
            fleet._sql("postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    fleet.inv("db.upgrade", "--target", name, "--create-missing")  # warms the template
    template = fleet._sql(
        "postgres",
        "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') "
        f"LIKE 'dbtasks snapshot of={name}_tenant %'",
    )[0][0]
    ours = median(reps, drop, lambda: fleet.inv("db.upgrade", "--target", name, "--create-missing"))
    assert all(fleet.at(d, "app") == [fleet.ids[-1]] for d in made)
    psql = find_binaries(fleet.cluster.pg_bindir).tool("psql")
    creates = [f"--command=CREATE DATABASE {d} TEMPLATE {template}" for d in made]
    ep = fleet.cluster.endpoint
    plain = replace(ep, query={})  # this psql's libpq predates require_auth
    args = [psql, "-X", "-q", f"--dbname={plain.conninfo('postgres')}", *creates]
    env = {**os.environ, "PGPASSWORD": ep.password}  # never on a command line
    bare = median(reps, drop, lambda: _timed(args, env))
    print(
        f"{count} new tenant database(s) at head: {ours:.2f} s; bare CREATE DATABASE ... "
        f"TEMPLATE from psql {bare:.2f} s; ratio {ours / bare:.2f} (budget 1.5)"
    )


def new_schemas(fleet: Fleet, reps: int, count: int) -> None:
    made = [f"fresh_s{i:03d}" for i in range(count)]
    _fresh(fleet, "freshs", "schema", made)

    def drop() -> None:
        fleet._sql("fleet_main", ";".join(f"DROP SCHEMA IF EXISTS {s} CASCADE" for s in made))

    fleet.inv("db.upgrade", "--target", "freshs", "--create-missing")  # warms the template
    copied = median(
        reps, drop, lambda: fleet.inv("db.upgrade", "--target", "freshs", "--create-missing")
    )
    assert all(fleet.at("fleet_main", s) == [fleet.ids[-1]] for s in made)
    replayed = median(reps, drop, lambda: fleet.inv("db.upgrade", "--target", "freshs"))
    print(
        f"{count} new tenant schemas at head: copied {copied:.2f} s; migrated from empty "
        f"{replayed:.2f} s; ratio {copied / replayed:.2f}"
    )


def _timed(args: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
