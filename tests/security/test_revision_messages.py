"""A revision message is data wherever it is written: it never becomes code in the new
file, a file that would not compile is not kept, and the file name is a safe slug."""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dbtasks.errors import ConfigError
from dbtasks.flows.author import empty_revision, merge, validate_message
from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, revision_text

pytestmark = pytest.mark.integration

HOSTILE = [
    'x""";__import__("os").system("touch {marker}")#',
    "x''';__import__('os').system('touch {marker}')#",
    "C:\\Users\\x and \\N{{bogus}} and \\x",
    'ends with a quote "',
    "ends with a backslash \\",
    "don't break; it's fine",
]


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path / "project", cluster)


def short_marker(tmp_path: Path) -> Path:
    """A file the injected code would create, with a name short enough for a message."""
    link = Path(tempfile.mkdtemp(dir="/tmp")) / "m"
    link.symlink_to(tmp_path / "ran")
    return link


def docstring_of(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


@pytest.mark.parametrize("message", HOSTILE)
def test_a_hostile_message_stays_text(
    project: ScratchProject, tmp_path: Path, message: str
) -> None:
    marker = short_marker(tmp_path)
    text = validate_message(message.format(marker=marker))
    new = empty_revision(project.settings(), text)
    assert new.path is not None
    path = project.root / new.path
    # Importing it again (as every later command does) runs nothing of the message.
    subprocess.run([sys.executable, str(path)], check=False, capture_output=True)
    assert not (tmp_path / "ran").exists()
    assert docstring_of(path).splitlines()[0] == text
    assert all(c.isalnum() or c in "_." for c in path.name), path.name


def test_a_merge_message_stays_text(project: ScratchProject, tmp_path: Path) -> None:
    for rev in ("a1", "b1"):
        (project.versions / f"{rev}.py").write_text(revision_text(rev, None))
    marker = short_marker(tmp_path)
    text = validate_message(HOSTILE[0].format(marker=marker))
    new = merge(project.settings(), text)
    assert new is not None and new.path is not None
    subprocess.run([sys.executable, str(project.root / new.path)], check=False)
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("message", ["a ${x} b", "a <% x %> b", "line\nbreak", "tab\there"])
def test_template_markup_and_control_characters_are_refused(message: str) -> None:
    with pytest.raises(ConfigError):
        validate_message(message)


def test_a_revision_that_would_not_compile_is_not_kept(project: ScratchProject) -> None:
    """A template whose output breaks (here: the message lands in code) leaves no file."""
    mako = project.root / "alembic" / "script.py.mako"
    mako.write_text(mako.read_text() + "\n${message}\n")
    before = sorted(project.versions.iterdir())
    with pytest.raises(ConfigError) as info:
        empty_revision(project.settings(), "two words")
    assert "not kept" in info.value.message
    assert sorted(project.versions.iterdir()) == before


@pytest.mark.e2e
def test_the_cli_names_the_problem_in_one_line(project: ScratchProject) -> None:
    result = project.inv("db.revision", "--empty", "-m", "a ${oops} b")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    for message in ("C:\\Users\\x", "and another"):  # the second loads the first
        ok = project.inv("db.revision", "--empty", "-m", message)
        assert ok.returncode == 0, ok.stderr
