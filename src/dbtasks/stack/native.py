"""The native backend: a project-local Postgres cluster run with `initdb` and `pg_ctl`.

It listens on 127.0.0.1 only, with no Unix socket (socket paths break in deep project
directories), and password authentication for the configured user. As root it runs the
server as an unprivileged user, because Postgres refuses to run as root; the data
directory then belongs to that user, so nothing in it is trusted (see `datadir`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from typing import TYPE_CHECKING

from dbtasks import shell
from dbtasks.errors import ConfigError, HealthError, StackError
from dbtasks.health import HealthReport, probe
from dbtasks.stack import StackStatus, UpResult, cluster, datadir
from dbtasks.stack.binaries import PgBinaries, find_binaries

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.settings import Settings

LOG_NAME = "postgres.log"


class NativeStack:
    name = "native"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data = settings.data_dir
        self.log = self.data / LOG_NAME
        self.user = settings.native_user

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, console: Console) -> UpResult:
        if cluster.running_pid(self.data):
            return self._already_running()
        # Parallel `inv` runs (e.g. concurrent deploys) must not race through initdb/start.
        with cluster.startup_lock(self.data):
            if cluster.running_pid(self.data):
                return self._already_running()
            binaries = self.binaries()
            with console.spinner("starting Postgres"):
                if self._initialize(binaries):
                    console.step(f"created a PostgreSQL {binaries.major()} cluster in {self.data}")
                self._start(binaries, console)
                if cluster.install_baseline(self.settings.endpoint):
                    console.step(
                        "installed the Supabase baseline (roles, auth, extensions) in template1"
                    )
                report = self._ensure_database()
        port = self.settings.endpoint.port
        return UpResult(True, f"started on port {port} (PostgreSQL {report.server_version})")

    def _already_running(self) -> UpResult:
        report = self._ensure_database()
        return UpResult(
            False,
            f"already running on port {self.settings.endpoint.port} "
            f"(PostgreSQL {report.server_version})",
        )

    def down(self) -> str:
        if not cluster.running_pid(self.data):
            return "not running"
        result = shell.run(
            [self.binaries().tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            user=self.user,
            env=cluster.server_env(),
        )
        if result.returncode != 0:
            raise StackError(f"pg_ctl stop failed: {_last_line(result.stderr)}")
        return "stopped"

    def describe_destroy(self) -> str:
        return f"the native cluster in {self.data} and every database in it"

    def destroy(self) -> str:
        self.down()
        if self.data.exists():
            shutil.rmtree(self.data)
        return f"removed {self.data}"

    # -- inspection ------------------------------------------------------------------------

    def binaries(self) -> PgBinaries:
        return find_binaries(self.settings.pg_bindir)

    def status(self) -> StackStatus:
        pid = cluster.running_pid(self.data)
        status = StackStatus(self.name, pid is not None, self.settings.masked_url)
        binaries = self.binaries()
        version = cluster.data_version(self.data)
        status.details.update(
            pid=pid,
            port=self.settings.endpoint.port,
            data_dir=str(self.data),
            initialized=version is not None,
            data_version=version,
            binaries=str(binaries.bindir),
            binaries_source=binaries.source,
            binaries_version=binaries.version(),
        )
        if pid:
            try:
                status.details["server_version"] = probe(self.settings.endpoint).server_version
            except HealthError as exc:
                status.details["problem"] = exc.render()
        return status

    def logs(self, lines: int) -> str:
        text = cluster.tail(self.data, LOG_NAME, lines)
        if text is None:
            return f"no log yet: {self.log} appears once the cluster has started"
        return "\n".join(text)

    # -- steps -----------------------------------------------------------------------------

    def _initialize(self, binaries: PgBinaries) -> bool:
        """Create the cluster if the data directory holds none; True when it did."""
        self._prepare_directory()
        existing = cluster.data_version(self.data)
        if existing is None:
            if any(self.data.iterdir()):
                raise ConfigError(
                    f"DB_DATA_DIR={str(self.data)!r} is not empty and holds no Postgres cluster",
                    "empty it or choose another path",
                )
            self._initdb(binaries)
            return True
        if existing != binaries.major():
            raise StackError(
                f"{self.data} was created by PostgreSQL {existing} but the binaries in "
                f"{binaries.bindir} are PostgreSQL {binaries.major()}",
                "set DB_PG_BINDIR to matching binaries, or `inv stack.down --destroy`",
            )
        return False

    def _prepare_directory(self) -> None:
        try:
            fd = datadir.open_in(self.data)
        except FileNotFoundError:
            self.data.mkdir(parents=True)
            fd = datadir.open_in(self.data)
        try:
            if self.user and os.geteuid() == 0:
                entry = pwd.getpwnam(self.user)
                cluster.check_reachable(self.data, entry)
                os.fchown(fd, entry.pw_uid, entry.pw_gid)
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)

    def _initdb(self, binaries: PgBinaries) -> None:
        endpoint = self.settings.endpoint
        # The password goes through a private file, never a command line or environment.
        fd, pwfile = tempfile.mkstemp(prefix="dbtasks-pw-")
        try:
            with os.fdopen(fd, "w") as handle:
                if self.user and os.geteuid() == 0:
                    entry = pwd.getpwnam(self.user)
                    os.fchown(fd, entry.pw_uid, entry.pw_gid)
                handle.write(endpoint.password + "\n")
            result = shell.run(
                [
                    binaries.tool("initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    endpoint.user,
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--no-sync",
                ],
                user=self.user,
                env=cluster.server_env(),
            )
        finally:
            os.unlink(pwfile)
        if result.returncode != 0:
            raise StackError(f"initdb failed: {_last_line(result.stderr)}")

    def _start(self, binaries: PgBinaries, console: Console) -> None:
        if cluster.remove_stale_pidfile(self.data):
            console.step("removed a stale postmaster.pid left by a server that did not stop")
        port = self.settings.endpoint.port
        if not cluster.port_free(port):
            raise StackError(
                f"port {port} on 127.0.0.1 is already in use by another process",
                "stop that process or set DB_PORT to a free port",
            )
        # Settings now travel on the command line; an older dbtasks' file would only confuse.
        datadir.remove_in(self.data, datadir.LEGACY_CONF)
        offset = cluster.size(self.data, LOG_NAME)
        result = shell.run(
            [
                binaries.tool("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                cluster.server_options(port),
                "-w",
                "-t",
                str(round(self.settings.health_timeout)),
                "start",
            ],
            user=self.user,
            env=cluster.server_env(),
        )
        if result.returncode != 0:
            reason = cluster.first_fatal(self.data, LOG_NAME, offset) or _last_line(result.stderr)
            raise StackError(f"Postgres did not start: {reason}", "see `inv stack.logs`")

    def _ensure_database(self) -> HealthReport:
        return cluster.ensure_database(self.settings.endpoint, self.settings.health_timeout)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
