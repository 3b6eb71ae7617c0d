"""End-to-end helpers: a scratch project and the real `inv` command in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import REPO, make_settings, scratch_dir, settings_env

INV = [sys.executable, "-m", "invoke"]


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    def inv(
        self, *args: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*INV, *args],
            cwd=self.root,
            env={**self.env, **env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def project() -> Iterator[Project]:
    """A scratch project with the repository's tasks.py and its own native cluster."""
    with scratch_dir("e2e") as root:
        shutil.copy(REPO / "tasks.py", root / "tasks.py")
        (root / "pyproject.toml").write_text('[tool.dbtasks]\nschema = "mindmirror"\n')
        proj = Project(root, settings_env(make_settings(root)))
        try:
            yield proj
        finally:
            proj.inv("stack.down")
