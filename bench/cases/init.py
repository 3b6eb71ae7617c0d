"""A cold `inv db.init` on a new data directory against the bare steps it replaces.

The bare side is `initdb`, `pg_ctl start` with the server settings dbtasks starts its own
with (the same function makes both: loopback only, no Unix socket, fsync and
full_page_writes off, synchronous_commit on),
`createdb` and raw `alembic upgrade head`, with the binaries dbtasks picks, run as the
same unprivileged user, with the same password authentication. dbtasks additionally
installs its Supabase baseline: that is part of what it costs.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bench import proc
from bench.cases.migrate import alembic_args
from bench.checks import CheckFailed, read_state, require_at_head
from bench.context import Bench, count_runs, require_count
from bench.harness import Case, Ratio, Side
from bench.project import Project
from bench.server import HOST, USER, ours_env, raw_env
from dbtasks import shell
from dbtasks.stack.cluster import port_free, server_env, server_options
from dbtasks.stack.native import initdb_flags
from dbtasks.target import Endpoint

DATABASE = "cold"


@dataclass
class Cold:
    """One side's cluster: a new data directory and port for every run."""

    b: Bench
    project: Project
    data: Path
    port: int = field(default=0)

    def prepare(self) -> None:
        from tests.support import free_port

        self.port = free_port()

    def precondition(self) -> None:
        if self.data.exists():
            raise CheckFailed(f"{self.data} exists before a cold init")
        if not port_free(self.port):
            raise CheckFailed(f"port {self.port} is taken before a cold init")

    def verify(self) -> None:
        endpoint = Endpoint(HOST, self.port, USER, self.b.server.password, DATABASE)
        require_at_head(read_state(endpoint, DATABASE), self.project.history, str(self.data))

    def cleanup(self) -> None:
        """Stop the server at once and delete its data (untimed)."""
        if (self.data / "postmaster.pid").exists():
            pg_ctl = self.b.server.binaries.tool("pg_ctl")
            user = self.b.server.settings.native_user
            shell.run([pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"], user=user)
        shutil.rmtree(self.data, ignore_errors=True)


def _ours(b: Bench, project: Project) -> Side:
    cold = Cold(b, project, b.root / "cold" / "ours")

    def run() -> None:
        env = b.env(ours_env(cold.port, DATABASE, cold.data, b.server.password))
        result = proc.run([*proc.INV, "db.init"], project.root, env)
        proc.expect(result, f"initialized: at head {project.history.head}", "inv db.init")

    return Side(
        "dbtasks",
        "inv db.init",
        run,
        cold.prepare,
        cold.precondition,
        cold.verify,
        cold.cleanup,
    )


def _bare(b: Bench, project: Project) -> Side:
    cold = Cold(b, project, b.root / "cold" / "bare")
    pwfile = b.root / "cold" / "pwfile"
    user = b.server.settings.native_user
    tool = b.server.binaries.tool

    def server(args: list[str]) -> None:
        result = shell.run(args, user=user, env=server_env())
        if result.returncode != 0:
            raise CheckFailed(f"`{proc.describe(args)}` failed: {proc.last_line(result.stderr)}")

    def run() -> None:
        _own_directory(cold.data, user)
        server([tool("initdb"), "-D", str(cold.data), *initdb_flags(USER, str(pwfile))])
        # The very settings dbtasks starts its server with, from the same function.
        options = server_options(cold.port)
        log = str(cold.data / "log")
        server([tool("pg_ctl"), "-D", str(cold.data), "-l", log, "-o", options, "-w", "start"])
        env = b.env(raw_env(cold.port, DATABASE, b.server.password))
        proc.run(
            [tool("createdb"), "-h", HOST, "-p", str(cold.port), "-U", USER, DATABASE],
            project.root,
            env,
        )
        up = proc.run(alembic_args(project, "upgrade", "head"), project.root, env)
        require_count(
            count_runs(up.stderr, "upgrade"), project.history.count, "alembic upgrade head"
        )

    def prepare() -> None:
        cold.prepare()
        _write_pwfile(pwfile, user, b.server.password)

    label = "initdb + pg_ctl start + createdb + alembic upgrade head"
    return Side("bare", label, run, prepare, cold.precondition, cold.verify, cold.cleanup)


def _own_directory(path: Path, user: str | None) -> None:
    path.mkdir(parents=True)
    if user and os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)


def _write_pwfile(path: Path, user: str | None, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n", encoding="utf-8")
    path.chmod(0o600)
    if user and os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def init(b: Bench, n: int) -> Case:
    project = b.project(n)
    sides = (_ours(b, project), _bare(b, project))
    return Case("init", n, sides, (Ratio("dbtasks", "bare", 1.0),))
