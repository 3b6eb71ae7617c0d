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

from dbtasks import baseline, guard, shell
from dbtasks.errors import ConfigError, HealthError, Refused, StackError, last_line
from dbtasks.guard import Intent
from dbtasks.health import HealthReport, probe
from dbtasks.stack import Capabilities, ResetMode, StackStatus, UpResult, cluster, datadir
from dbtasks.stack.binaries import PgBinaries, find_binaries
from dbtasks.stack.datadir import Kind

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.grants import Grant
    from dbtasks.settings import Settings

LOG_NAME = "postgres.log"


def initdb_flags(user: str, pwfile: str) -> list[str]:
    """How every native cluster is made (the bench's bare side makes its own the same way)."""
    return [
        "-U",
        user,
        f"--pwfile={pwfile}",
        "-E",
        "UTF8",
        "--locale=C",
        "--auth-host=scram-sha-256",
        "--auth-local=peer",
        "--no-sync",
    ]


class NativeStack:
    name = "native"
    capabilities = Capabilities(
        owns_server=True, reset=ResetMode.CLONE, snapshots=True, local_cluster=True
    )

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data = settings.data_dir
        self.log = self.data / LOG_NAME
        self.user = settings.native_user

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, console: Console) -> UpResult:
        # One `up` at a time: parallel `inv` runs (e.g. concurrent deploys) must neither
        # race through initdb/start nor take a half-made cluster for a foreign one.
        with cluster.startup_lock(self.data):
            kind = self._check_folder()  # before anything in the folder changes
            if kind is Kind.LEGACY:
                datadir.mark(self.data, self._account())
                console.step(f"adopted the cluster in {self.data}: an older dbtasks created it")
            granted = guard.stack(self.settings, Intent.MIGRATE, "start the native stack")
            if self._running():
                return self._already_running(granted, console)
            binaries = self.binaries()
            with console.spinner("starting Postgres"):
                self._initialize(binaries, kind, console)
                self._start(binaries, console)
                report = self._ensure_database(granted, console, cold=True)
        port = self.settings.endpoint.port
        return UpResult(True, f"started on port {port} (PostgreSQL {report.server_version})")

    def _running(self) -> bool:
        """Whether our server runs; on another port than DB_PORT it is an error, at once."""
        info = cluster.running(self.data)
        if info is not None and (mismatch := self._port_mismatch(info)):
            raise mismatch
        return info is not None

    def _port_mismatch(self, info: cluster.PidFile) -> StackError | None:
        port = self.settings.endpoint.port
        if info.port is None or info.port == port:
            return None
        return StackError(
            f"the native cluster in {self.data} is running on port {info.port}, not DB_PORT={port}",
            f"set DB_PORT={info.port}, or `inv stack.down` and `inv stack.up` to restart it "
            f"on {port}",
        )

    def _already_running(self, granted: Grant, console: Console) -> UpResult:
        report = self._ensure_database(granted, console)
        return UpResult(
            False,
            f"already running on port {self.settings.endpoint.port} "
            f"(PostgreSQL {report.server_version})",
        )

    def down(self) -> str:
        info = cluster.read_pidfile(self.data)
        if info is None:
            return "not running"
        if not cluster.serves(info.pid, self.data):
            return f"not running ({_stale(info)}; nothing was signalled)"
        result = shell.run(
            [self.binaries().tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            user=self.user,
            env=cluster.server_env(),
        )
        if result.returncode != 0:
            raise StackError(f"pg_ctl stop failed: {last_line(result.stderr)}")
        return "stopped"

    def describe_destroy(self) -> str:
        # Refuse before anyone is asked to confirm a deletion that would be refused anyway.
        datadir.check_removable(self.data, self.settings.project_root)
        return f"the native cluster in {self.data} and every database in it"

    def destroy(self, grant: Grant) -> str:
        ep = self.settings.endpoint
        grant.require_server(Intent.DESTROY, ep.host, ep.port)
        kind = datadir.check_removable(self.data, self.settings.project_root)
        if kind is Kind.MISSING:
            return f"nothing to remove: {self.data} does not exist"
        self.down()
        if kind is Kind.EMPTY:
            self.data.rmdir()  # fails rather than deletes if something appeared meanwhile
        else:
            shutil.rmtree(self.data)  # fd-based on Linux: follows no link inside
        return f"removed {self.data}"

    # -- inspection ------------------------------------------------------------------------

    def binaries(self) -> PgBinaries:
        return find_binaries(self.settings.pg_bindir)

    def status(self) -> StackStatus:
        info = cluster.read_pidfile(self.data)
        live = info if info is not None and cluster.serves(info.pid, self.data) else None
        status = StackStatus(self.name, live is not None, self.settings.masked_url)
        binaries = self.binaries()
        version = cluster.data_version(self.data)
        status.details.update(
            pid=live.pid if live else None,
            port=live.port if live and live.port else self.settings.endpoint.port,
            data_dir=str(self.data),
            initialized=version is not None,
            data_version=version,
            binaries=str(binaries.bindir),
            binaries_source=binaries.source,
            binaries_version=binaries.version(),
        )
        mismatch = self._port_mismatch(live) if live else None
        if info is not None and live is None:
            status.details["problem"] = f"{_stale(info)} — `inv stack.up` replaces it"
        elif mismatch is not None:
            status.details["problem"] = mismatch.render()
        elif live is not None:
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

    def _check_folder(self) -> Kind:
        """What DB_DATA_DIR holds; a folder dbtasks may not use is refused untouched."""
        datadir.check_usable(self.data, self.settings.project_root)
        kind = datadir.inspect(self.data)
        if kind is Kind.NOT_A_CLUSTER:
            raise ConfigError(
                f"DB_DATA_DIR={str(self.data)!r} is not empty and holds no Postgres cluster",
                "set DB_DATA_DIR to a new or empty directory, e.g. .dbtasks/pgdata",
            )
        if kind is Kind.FOREIGN_CLUSTER:
            raise ConfigError(
                f"DB_DATA_DIR={str(self.data)!r} holds a Postgres cluster dbtasks did not create",
                "choose another path: dbtasks starts and deletes only its own clusters",
            )
        if kind is Kind.EMPTY and not datadir.is_own_folder(self.data, self.settings.project_root):
            # Taking it over hands it to the server account (chown, 0700): an empty
            # directory dbtasks did not make may be anything, a folder on root's PATH too.
            raise Refused(
                f"DB_DATA_DIR={str(self.data)!r} exists already: dbtasks makes its data "
                "directory itself and takes over none it did not make",
                "point DB_DATA_DIR at a path that does not exist yet (or remove the empty one)",
            )
        return kind

    def _account(self) -> pwd.struct_passwd | None:
        """The server account when dbtasks runs as root and must switch to it."""
        return pwd.getpwnam(self.user) if self.user and os.geteuid() == 0 else None

    def _initialize(self, binaries: PgBinaries, kind: Kind, console: Console) -> None:
        """Create the cluster if the data directory holds none."""
        account = self._account()
        if account is not None:
            cluster.check_reachable(self.data, account)
        if kind in (Kind.MISSING, Kind.EMPTY):
            self._create_directory(account)
            self._initdb(binaries, account)
            datadir.mark(self.data, account)
            console.step(f"created a PostgreSQL {binaries.major()} cluster in {self.data}")
            return
        existing = cluster.data_version(self.data)
        if existing != binaries.major():
            raise StackError(
                f"{self.data} was created by PostgreSQL {existing} but the binaries in "
                f"{binaries.bindir} are PostgreSQL {binaries.major()}",
                "set DB_PG_BINDIR to matching binaries, or `inv stack.down --destroy`",
            )

    def _create_directory(self, account: pwd.struct_passwd | None) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        fd = datadir.open_in(self.data)
        try:
            if account is not None:
                os.fchown(fd, account.pw_uid, account.pw_gid)
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)

    def _initdb(self, binaries: PgBinaries, account: pwd.struct_passwd | None) -> None:
        endpoint = self.settings.endpoint
        # The password goes through a private file, never a command line or environment.
        fd, pwfile = tempfile.mkstemp(prefix="dbtasks-pw-")
        try:
            with os.fdopen(fd, "w") as handle:
                if account is not None:
                    os.fchown(fd, account.pw_uid, account.pw_gid)
                handle.write(endpoint.password + "\n")
            result = shell.run(
                [
                    binaries.tool("initdb"),
                    "-D",
                    str(self.data),
                    *initdb_flags(endpoint.user, pwfile),
                ],
                user=self.user,
                env=cluster.server_env(),
            )
        finally:
            os.unlink(pwfile)
        if result.returncode != 0:
            raise StackError(f"initdb failed: {last_line(result.stderr)}")

    def _start(self, binaries: PgBinaries, console: Console) -> None:
        if cluster.remove_stale_pidfile(self.data):
            console.step("removed a stale postmaster.pid: no server of this cluster had its pid")
        port = self.settings.endpoint.port
        if not cluster.port_free(port):
            raise StackError(
                f"port {port} on 127.0.0.1 is already in use by another process",
                "stop that process or set DB_PORT to a free port",
            )
        # Settings now travel on the command line; an older dbtasks' file would only confuse.
        datadir.remove_in(self.data, datadir.LEGACY_CONF)
        offset = cluster.size(self.data, LOG_NAME)
        starter = shell.start(
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
        code, stderr = cluster.started(self.data, starter)
        if code != 0:
            reason = cluster.first_fatal(self.data, LOG_NAME, offset) or last_line(stderr)
            raise StackError(f"Postgres did not start: {reason}", "see `inv stack.logs`")

    def _ensure_database(
        self, granted: Grant, console: Console, cold: bool = False
    ) -> HealthReport:
        """The configured database answers (created the first time); a Supabase project's
        gets the baseline when created, and is checked for it at a cold start."""
        ep = self.settings.endpoint
        report, created = cluster.ensure_database(ep, self.settings.health_timeout, granted)
        if (created or cold) and baseline.ensure_in(self.settings, ep.database, granted):
            console.step(
                f"installed the Supabase baseline (roles, auth, extensions) in {ep.database}"
            )
        return report


def _stale(info: cluster.PidFile) -> str:
    return f"stale postmaster.pid: pid {info.pid} is not this cluster's server"
