"""`inv -r DIR` from elsewhere works on DIR's project: its pyproject.toml is the one read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dbtasks.tasks import _boundary

PYPROJECT = "[tool.dbtasks]\nport = 1\n"  # a port nothing listens on: the error names it


def _project(root: Path) -> Path:
    root.mkdir()
    (root / "tasks.py").write_text("from dbtasks.tasks import namespace\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def _status(cwd: Path, *argv: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "invoke", *argv, "db.status"], cwd=cwd,
        env={**env, "DB_PASS": "x"}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stderr


def test_a_project_named_with_r_is_read_from_elsewhere(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    (tmp_path / "elsewhere").mkdir()
    assert "127.0.0.1:1:" in _status(tmp_path / "elsewhere", "-r", str(project))
    assert "127.0.0.1:1:" in _status(project)


def test_inside_the_tasks_directory_the_working_directory_still_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subproject with a pyproject of its own, below the tasks.py that serves it, keeps
    its own settings: only a working directory outside tasks.py's moves the root."""
    top = tmp_path / "mono"
    sub = top / "service"
    sub.mkdir(parents=True)
    (sub / "pyproject.toml").write_text(PYPROJECT)
    token = _boundary.tasks_dir.set(top.resolve())
    try:
        monkeypatch.chdir(sub)
        assert _boundary.project_root() is None
        monkeypatch.chdir(tmp_path)
        assert _boundary.project_root() == top.resolve()
    finally:
        _boundary.tasks_dir.reset(token)
