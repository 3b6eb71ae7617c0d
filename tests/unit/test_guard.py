"""The guard matrix: terminal or not, --yes or not, loopback/remote/Supabase, each backend."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dbtasks.console import Console
from dbtasks.errors import ConfigError, ExitCode, Refused
from dbtasks.guard import authorize, is_hosted_supabase
from dbtasks.settings import Settings, load_settings

HOSTS = {
    "loopback": "127.0.0.1",
    "remote": "db.internal.invalid",
    "supabase": "db.abcdefghijklmnop.supabase.co",
}


def settings_for(tmp_path: Path, host: str, backend: str, env: str = "development") -> Settings:
    return load_settings(
        environ={"DB_HOST": host, "DB_BACKEND": backend, "DB_ENV": env}, root=tmp_path
    )


def expected(host: str, terminal: bool, yes: bool, answer: str, allow_remote: bool) -> bool:
    if host == "supabase" or (host == "remote" and not allow_remote):
        return False
    return yes or (terminal and answer == "y")


@pytest.mark.parametrize("backend", ["native", "compose", "external"])
@pytest.mark.parametrize("host", list(HOSTS))
@pytest.mark.parametrize("terminal", [True, False])
@pytest.mark.parametrize("yes", [True, False])
@pytest.mark.parametrize("answer", ["y", ""])
@pytest.mark.parametrize("allow_remote", [False, True])
def test_matrix(
    tmp_path: Path,
    backend: str,
    host: str,
    terminal: bool,
    yes: bool,
    answer: str,
    allow_remote: bool,
) -> None:
    if backend != "external" and host != "loopback":
        # A stack dbtasks runs listens on this machine only: such a target is bad input.
        with pytest.raises(ConfigError):
            settings_for(tmp_path, HOSTS[host], backend)
        return
    settings = settings_for(tmp_path, HOSTS[host], backend)
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return answer

    def run() -> None:
        authorize(
            settings,
            Console(out=io.StringIO()),
            "reset it",
            yes=yes,
            allow_remote=allow_remote,
            ask=ask,
            interactive=terminal,
        )

    if expected(host, terminal, yes, answer, allow_remote):
        run()
    else:
        with pytest.raises(Refused) as info:
            run()
        assert info.value.exit_code == ExitCode.REFUSED
    # Nobody is asked when the target is refused or --yes was given.
    assert bool(asked) == (terminal and not yes and expected(host, True, False, "y", allow_remote))


@pytest.mark.parametrize("host", ["127.0.0.1", "db.internal.invalid"])
def test_production_is_never_touched(tmp_path: Path, host: str) -> None:
    settings = settings_for(tmp_path, host, "external", env="production")
    with pytest.raises(Refused, match="production"):
        authorize(settings, Console(), "reset it", yes=True, allow_remote=True)


@pytest.mark.parametrize(
    ("host", "port", "hosted"),
    [
        ("db.abcdefghijklmnop.supabase.co", 5432, True),
        ("aws-0-eu-west-1.pooler.supabase.com", 5432, True),
        ("SUPABASE.CO", 5432, True),
        ("My-Pooler.internal.invalid", 6543, True),
        ("my-pooler.internal.invalid", 5432, False),
        ("db.example.invalid", 6543, False),
        ("notsupabase.co", 5432, False),
        ("db.example.invalid", 5432, False),
    ],
)
def test_hosted_supabase_detection(host: str, port: int, hosted: bool) -> None:
    assert is_hosted_supabase(host, port) is hosted
