"""The security suite: one module per guarantee (docs/security.md maps each to its tests).

The helpers here run the library the way a user does (settings, then the guard, or the
real `inv` command) and keep every test that aims at another host off the network: such
commands run in a loopback-only network namespace, and targets are names under `.invalid`.
They also run on the code before these guarantees existed, so each test could be seen
failing there; the few names that moved since are looked up through `moved`.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from dbtasks import guard
from dbtasks.console import Console
from dbtasks.errors import DbTasksError
from dbtasks.settings import load_settings
from tests.support import REPO

INV = [sys.executable, "-m", "invoke"]
# Commands aimed at another host run here: only a loopback interface, no route anywhere.
NETNS = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "netns"]
REMOTE = "db.prod.example.invalid"
HOSTED = "db.abcdefghijklmnopqrst.supabase.co"  # only ever classified, or used in NETNS
LOCAL_URL = "postgresql://u:p@127.0.0.1:5432/app"
# Not this machine by its name, and not routable: only ever classified, never bound.
UNSPECIFIED = "0.0.0.0"  # noqa: S104


def moved(candidates: tuple[str, ...], name: str) -> Any:
    """`name` from the first of the modules that has it (a module was renamed since)."""
    for module in candidates:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    raise ImportError(f"none of {candidates} defines {name}")


def find_project_root(start: Path) -> Path:
    where = ("dbtasks.settings.sources", "dbtasks.settings")
    find: Callable[[Path], Path] = moved(where, "find_project_root")
    return find(start)


@dataclass(frozen=True)
class Verdict:
    """What a destructive command would meet: its exit code (0: allowed) and message."""

    code: int
    message: str


def quiet() -> Console:
    return Console(out=io.StringIO(), err=io.StringIO())


def verdict(root: Path, env: Mapping[str, str], allow_remote: bool = False) -> Verdict:
    """Settings, then the guard of a destructive command with --yes. Nothing connects."""
    try:
        settings = load_settings(environ={"DB_PASS": "not-the-secret", **env}, root=root)
        guard.authorize(settings, quiet(), "reset", yes=True, allow_remote=allow_remote)
    except DbTasksError as exc:
        return Verdict(int(exc.exit_code), exc.render())
    return Verdict(0, settings.masked_url)


def clean_environ(**env: str) -> dict[str, str]:
    """This process' environment without any database or libpq setting, plus `env`."""
    own = ("DB_", "DATABASE_URL", "PG")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(own)}, **env}


def tasks_project(root: Path, pyproject: str = "[tool.dbtasks]\n") -> Path:
    """A directory `inv` runs in: the repository's tasks.py and a pyproject.toml."""
    shutil.copy(REPO / "tasks.py", root / "tasks.py")
    (root / "pyproject.toml").write_text(pyproject)
    return root


def inv(
    root: Path, *args: str, env: Mapping[str, str], netns: bool = False, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real `inv` command in `root`, stdin not a terminal."""
    return subprocess.run(
        [*(NETNS if netns else []), *INV, *args],
        cwd=root,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}"


def secret_forms(secret: str) -> set[str]:
    """Every way a secret could be printed: as is, percent- or form-encoded, and each piece
    of it around a URL delimiter (a parser that splits it may print one piece)."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    for delimiter in "@:/#?&= ":
        forms.update(p for p in secret.split(delimiter) if len(p) >= 5)
    return forms


def leaked(text: str, secret: str) -> list[str]:
    return sorted(form for form in secret_forms(secret) if form in text)


@dataclass
class FakeServer:
    """A loopback listener that speaks just enough of the Postgres protocol to ask for a
    password in the clear, and records every connection and every password it receives."""

    host: str
    port: int = 0
    connections: int = 0
    passwords: list[bytes] = field(default_factory=list)

    def serve(self, sock: socket.socket, stop: threading.Event) -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(1)  # a client that refused to go on says nothing more
                self._converse(conn)

    def _converse(self, conn: socket.socket) -> None:
        try:
            while True:
                length, code = struct.unpack("!ii", _read(conn, 8))
                if code not in (80877103, 80877104):  # SSL / GSS encryption requests
                    break
                conn.sendall(b"N")
            _read(conn, length - 8)
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            kind, size = struct.unpack("!ci", _read(conn, 5))
            if kind == b"p":
                self.passwords.append(_read(conn, size - 4).rstrip(b"\0"))
        except (OSError, struct.error):
            return


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


@contextmanager
def fake_server(host: str, port: int = 0) -> Iterator[FakeServer]:
    """A FakeServer listening on host:port (a free port when 0) while the block runs."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        server = FakeServer(host, int(sock.getsockname()[1]))
        stop = threading.Event()
        thread = threading.Thread(target=server.serve, args=(sock, stop), daemon=True)
        thread.start()
        try:
            yield server
        finally:
            stop.set()
            thread.join(timeout=5)
