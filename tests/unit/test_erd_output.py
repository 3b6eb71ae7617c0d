"""Writing a diagram is an effect: only inside the project, never through a link or onto a
special file, atomically; `--inject` replaces exactly the block between its markers and
`--check` only compares."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dbtasks import guard
from dbtasks.erd.output import BEGIN, END, inject, injected, write
from dbtasks.errors import CheckFailed, ConfigError, ExitCode, Refused
from dbtasks.grants import FileGrant

DOC = f"# Schema\n\nSome words.\n\n{BEGIN}\nold\n{END}\n\nMore words.\n"


def files(root: Path) -> FileGrant:
    return guard.files((root,), "write the diagram")


def test_inject_replaces_only_the_block_between_the_markers(tmp_path: Path) -> None:
    doc = tmp_path / "schema.md"
    doc.write_text(DOC)
    assert inject(doc, "new\nlines\n", files(tmp_path), check=False)
    assert doc.read_text() == DOC.replace("old\n", "new\nlines\n")
    assert not inject(doc, "new\nlines\n", files(tmp_path), check=False)


def test_check_fails_on_a_stale_block_and_writes_nothing(tmp_path: Path) -> None:
    doc = tmp_path / "schema.md"
    doc.write_text(DOC)
    with pytest.raises(CheckFailed) as caught:
        inject(doc, "new\n", files(tmp_path), check=True)
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert "inv db.erd --inject" in caught.value.render()
    assert doc.read_text() == DOC
    assert not inject(doc, "old\n", files(tmp_path), check=True)


@pytest.mark.parametrize(
    "text",
    ["no markers\n", f"{END}\n{BEGIN}\n", f"{BEGIN}\n{BEGIN}\n{END}\n"],
    ids=["none", "reversed", "two begins"],
)
def test_markers_must_be_one_pair_in_order(text: str) -> None:
    with pytest.raises(ConfigError, match="expected one begin and one end marker"):
        injected(text, "x\n", Path("doc.md"))


def test_a_file_outside_the_project_is_refused(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "elsewhere.md"
    project.mkdir()
    with pytest.raises(Refused, match=r"refusing to write .*: it is outside"):
        write(outside, "x", files(project))
    assert not outside.exists()


def test_a_link_is_refused_even_to_a_file_inside(tmp_path: Path) -> None:
    target, link = tmp_path / "real.md", tmp_path / "link.md"
    target.write_text(DOC)
    link.symlink_to(target)
    with pytest.raises(Refused, match="symbolic link"):
        inject(link, "x\n", files(tmp_path), check=False)
    assert target.read_text() == DOC


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "schema.md"
    os.mkfifo(fifo)
    with pytest.raises(Refused, match="not a regular file"):
        inject(fifo, "x\n", files(tmp_path), check=True)


def test_a_missing_file_to_inject_into_is_bad_input_saying_what_to_add(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="add two lines where the diagram goes"):
        inject(tmp_path / "none.md", "x\n", files(tmp_path), check=False)


def test_write_keeps_the_files_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "erd.mmd"
    out.write_text("old")
    out.chmod(0o640)
    write(out, "new", files(tmp_path))
    assert out.read_text() == "new" and out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["erd.mmd"]
