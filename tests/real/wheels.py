"""Pinned wheels from PyPI, downloaded once into a cache that outlives the test run.

Only a wheel's Alembic folders (and the few self-contained helper modules a history
imports) are read out of it; nothing of the package is installed or imported.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("DBTASKS_TEST_WHEELS", "~/.cache/dbtasks-tests/wheels")).expanduser()
# What pip says when it cannot reach the index at all: the test is skipped, not failed.
_OFFLINE = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "No route to host",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "SSLError",
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cached(project: str, version: str) -> Path | None:
    stem = f"{project.replace('-', '_')}-{version}-"
    found = sorted(CACHE.glob(f"{stem}*.whl"))
    return found[0] if found else None


def wheel(project: str, version: str, sha256: str) -> Path:
    """The wheel `project==version`, from the cache or else PyPI; its hash must match."""
    path = _cached(project, version)
    if path is None:
        path = _download(project, version)
    got = _digest(path)
    assert got == sha256, f"{path.name}: sha256 {got}, pinned {sha256}"
    return path


def _download(project: str, version: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "--disable-pip-version-check", "--timeout", "30", "--retries", "1",
            f"{project}=={version}", "-d", tmp,
        ]  # fmt: skip
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=600, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        wheels = sorted(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            output = result.stdout + result.stderr
            offline = [line for line in output.splitlines() if any(m in line for m in _OFFLINE)]
            if offline:
                why = re.sub(r"<[^>]*>: ", "", offline[-1]).strip()[-160:]
                pytest.skip(f"PyPI unreachable, cannot download {project}=={version}: {why}")
            raise AssertionError(f"pip download {project}=={version} failed:\n{output[-3000:]}")
        # Moved in only when complete: an interrupted download never poisons the cache.
        target = CACHE / wheels[0].name
        shutil.move(str(wheels[0]), target)
        return target


def extract(path: Path, folder: str, into: Path) -> list[str]:
    """Copy `folder` (a directory inside the wheel) into `into`, as it is; its files."""
    prefix = folder.rstrip("/") + "/"
    names = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not name.startswith(prefix) or name.endswith("/") or "__pycache__" in name:
                continue
            target = into / name[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))
            names.append(name)
    assert names, f"{path.name} holds no {folder}/"
    return names


def read(path: Path, member: str) -> str:
    """One file of the wheel, as text."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode()
