"""Files dbtasks reads or writes as root, in places others may write to.

- seed files stay inside the project and outside any data directory, and are never read
  through a link planted there; a pattern reaching outside the project is bad input;
- DB_LOG_FILE is never followed through a link, is created 0600, stays inside the project
  unless named absolutely, and never lies in a data directory;
- `stack.up` refuses the places `stack.down --destroy` refuses ($HOME, the project root);
- a FIFO at the start-up lock neither hangs `stack.up` nor passes for a lock file;
- a `postmaster.pid` the server account filled with garbage is read as no pid file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dbtasks.console import Console
from dbtasks.errors import ConfigError, Refused
from dbtasks.log import open_log
from dbtasks.seeds import read_seed, seed_files
from dbtasks.settings import Settings, load_settings
from dbtasks.stack import cluster
from dbtasks.stack.native import NativeStack
from tests.security import clean_environ, inv, tasks_project

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="the threat is dbtasks running as root")


def project(tmp_path: Path, **env: str) -> Settings:
    root = tmp_path / "project"
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.dbtasks]\n")
    return load_settings(environ={"DB_PASS": "not-the-secret", **env}, root=root)


# -- seeds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", ["/etc/hostname", "/etc/shad*", "../../../etc/shadow", "seeds/../../outside.sql"]
)
def test_a_seed_pattern_outside_the_project_is_bad_input(tmp_path: Path, pattern: str) -> None:
    settings = project(tmp_path, DB_SEEDS=pattern)
    with pytest.raises(ConfigError) as info:
        seed_files(settings)
    assert "outside the project" in info.value.message


def test_a_glob_never_descends_into_the_data_directory(tmp_path: Path) -> None:
    settings = project(tmp_path, DB_SEEDS="**/*.sql")
    root = settings.project_root
    (root / "seeds" / "001.sql").write_text("SELECT 1;\n")
    planted = settings.data_dir / "base"
    planted.mkdir(parents=True)
    (planted / "planted.sql").write_text("SELECT 'planted';\n")
    (root / ".dbtasks" / "cache").mkdir(parents=True, exist_ok=True)
    (root / ".dbtasks" / "cache" / "x.sql").write_text("SELECT 2;\n")
    assert [p.relative_to(root) for p in seed_files(settings)] == [Path("seeds/001.sql")]


def test_a_seed_link_leading_out_of_the_project_is_refused(tmp_path: Path) -> None:
    settings = project(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("root only\n")
    (settings.project_root / "seeds" / "001.sql").symlink_to(secret)
    with pytest.raises(ConfigError) as info:
        seed_files(settings)
    assert "outside the project" in info.value.message


@root_only
def test_as_root_a_seed_is_never_read_through_a_link(tmp_path: Path) -> None:
    settings = project(tmp_path)
    root = settings.project_root
    (root / "seeds" / "real.sql").write_text("SELECT 1;\n")
    (root / "seeds" / "link.sql").symlink_to(root / "seeds" / "real.sql")
    with pytest.raises(ConfigError):
        read_seed(root / "seeds" / "link.sql", root)


def test_a_seed_that_is_not_utf8_is_bad_input(tmp_path: Path) -> None:
    settings = project(tmp_path)
    path = settings.project_root / "seeds" / "001.sql"
    path.write_bytes(b"INSERT INTO t VALUES ('\xff\xfe');\n")
    with pytest.raises(ConfigError) as info:
        read_seed(path, settings.project_root)
    assert "not UTF-8" in info.value.message


# -- the log file ---------------------------------------------------------------------------


def test_the_log_file_is_created_private(tmp_path: Path) -> None:
    settings = project(tmp_path, DB_LOG_FILE="deploy.log")
    assert settings.log_file is not None
    open_log(settings.log_file, settings).close()
    assert stat.S_IMODE(settings.log_file.stat().st_mode) == 0o600


def test_the_log_file_is_never_followed_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "root-only.txt"
    target.write_text("untouched\n")
    settings = project(tmp_path, DB_LOG_FILE="deploy.log")
    assert settings.log_file is not None
    settings.log_file.symlink_to(target)
    with pytest.raises(ConfigError) as info:
        open_log(settings.log_file, settings)
    assert "symbolic link" in info.value.message
    assert target.read_text() == "untouched\n"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("../outside.log", "outside the project"),
        (".dbtasks/pgdata/deploy.log", "data directory"),
        (".", "cannot be opened"),
        ("no/such/folder/deploy.log", "cannot be opened"),
    ],
)
def test_a_log_file_in_the_wrong_place_is_one_line_exit_2(
    tmp_path: Path, value: str, words: str
) -> None:
    root = tasks_project(tmp_path)
    (root / ".dbtasks" / "pgdata").mkdir(parents=True)
    result = inv(root, "db.status", env=clean_environ(DB_LOG_FILE=value, DB_PORT="54397"))
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- the data directory --------------------------------------------------------------------


def test_up_refuses_home_as_its_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    monkeypatch.setenv("HOME", str(home))
    settings = project(tmp_path, DB_DATA_DIR="~")
    before = home.stat()
    with pytest.raises(Refused) as info:
        NativeStack(settings).up(Console())
    assert "home directory" in info.value.message
    after = home.stat()
    assert (after.st_uid, after.st_mode) == (before.st_uid, before.st_mode)


def test_a_fifo_at_the_start_up_lock_is_refused_at_once(tmp_path: Path) -> None:
    data = tmp_path / "shared" / "pgdata"
    data.parent.mkdir()
    os.mkfifo(data.parent / f".{data.name}.lock")
    with pytest.raises(Refused) as info, cluster.startup_lock(data):
        pass
    assert "not a plain file" in info.value.message


@pytest.mark.parametrize(
    "line4",
    ["not-a-number", "9" * 5000, "\uff15\uff14\uff13\uff12", "-1"],
    ids=["words", "5000 digits", "unicode", "negative"],
)
def test_a_garbage_pid_file_reads_as_none(tmp_path: Path, line4: str) -> None:
    data = tmp_path / "pgdata"
    data.mkdir()
    (data / cluster.PIDFILE).write_text(f"12345\n{data}\n0\n{line4}\n")
    found = cluster.read_pidfile(data)
    assert found is None or found.port is None
    (data / cluster.PIDFILE).write_text(f"{'9' * 5000}\n")
    assert cluster.read_pidfile(data) is None


def test_up_takes_over_no_existing_directory_it_did_not_make(tmp_path: Path) -> None:
    """An empty directory may be anything (a folder on root's PATH): handing it to the
    server account would let that account plant what root later runs."""
    elsewhere = tmp_path / "sbin"
    elsewhere.mkdir(mode=0o755)
    settings = project(tmp_path, DB_DATA_DIR=str(elsewhere))
    before = elsewhere.stat()
    with pytest.raises(Refused) as info:
        NativeStack(settings).up(Console())
    assert "exists already" in info.value.message
    after = elsewhere.stat()
    assert (after.st_uid, after.st_mode) == (before.st_uid, before.st_mode)


def test_the_server_log_is_shown_without_terminal_controls(tmp_path: Path) -> None:
    """An unauthenticated client chooses what a FATAL line of the log says."""
    from dbtasks.console import printable

    shown = printable("FATAL:  password authentication failed for user \x1b]0;pwned\x07x")
    assert "\x1b" not in shown and "\\x1b" in shown and "\x07" not in shown
