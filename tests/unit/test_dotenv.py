"""`.env` reading through python-dotenv's public API: literal values, bad lines by number."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbtasks.errors import ConfigError
from dbtasks.settings.sources import read_dotenv
from tests.support import HOSTILE_PASSWORD


def dotenv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def dotenv_logger() -> Iterator[logging.Logger]:
    """The logger python-dotenv warns on, put back as it was after the test."""
    logger = logging.getLogger("dotenv.main")
    saved = (logger.level, logger.disabled, logger.propagate, list(logger.handlers))
    yield logger
    logger.setLevel(saved[0])
    logger.disabled, logger.propagate, logger.handlers = saved[1], saved[2], saved[3]
    logging.disable(logging.NOTSET)


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_dotenv(tmp_path / ".env") == {}


def test_good_file(tmp_path: Path) -> None:
    text = "# a comment\n\nDB_HOST=127.0.0.1\nDB_PORT = 6001\nDB_NAME=app  # trailing\n"
    assert read_dotenv(dotenv(tmp_path, text)) == {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": "6001",
        "DB_NAME": "app",
    }


def test_quotes(tmp_path: Path) -> None:
    text = 'A=\'single quoted\'\nB="double quoted"\nC= \'padded\' # note\nD="say \\"hi\\""\n'
    assert read_dotenv(dotenv(tmp_path, text)) == {
        "A": "single quoted",
        "B": "double quoted",
        "C": "padded",
        "D": 'say "hi"',
    }


def test_export_prefix(tmp_path: Path) -> None:
    text = "export DB_USER=app\nexport DB_PASS='s3cret'\n"
    assert read_dotenv(dotenv(tmp_path, text)) == {"DB_USER": "app", "DB_PASS": "s3cret"}


def test_hash_dollar_and_spaces_are_literal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", "/root")
    text = (
        "Q='p#ss $HOME ${HOME} with spaces'\n"
        'D="a#b ${HOME}"\n'
        "U=a$HOME${HOME}b\n"
        "H=abc#not-a-comment\n"
        f"P='{HOSTILE_PASSWORD}'\n"
    )
    assert read_dotenv(dotenv(tmp_path, text)) == {
        "Q": "p#ss $HOME ${HOME} with spaces",
        "D": "a#b ${HOME}",
        "U": "a$HOME${HOME}b",
        "H": "abc#not-a-comment",
        "P": HOSTILE_PASSWORD,
    }


def test_bare_key_sets_nothing(tmp_path: Path) -> None:
    assert read_dotenv(dotenv(tmp_path, "DB_HOST\nDB_PORT=1\n")) == {"DB_PORT": "1"}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("DB_PORT=1\nDB_PASS='hunter2 unterminated\n", 2),
        ("# c\n\nDB_PORT=1\nDB_PASS='hunter2'x\n", 4),
        ("DB_PORT=1\nhunter2 x=1\n", 2),
        ('DB_PASS="hunter2\nDB_PORT=1\n', 1),
    ],
)
def test_malformed_line_names_its_number_not_its_content(
    tmp_path: Path, text: str, line: int, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ConfigError) as info:
        read_dotenv(dotenv(tmp_path, text))
    rendered = info.value.render()
    assert f".env line {line} cannot be parsed" in rendered
    assert "hunter2" not in rendered
    # The error is ours to raise: python-dotenv's own warning is not printed as well.
    assert not [r for r in caplog.records if r.name == "dotenv.main"]


def test_logger_is_left_as_it_was(tmp_path: Path, dotenv_logger: logging.Logger) -> None:
    dotenv_logger.setLevel(logging.DEBUG)
    before = (dotenv_logger.level, dotenv_logger.disabled, dotenv_logger.propagate)
    handlers = list(dotenv_logger.handlers)
    with pytest.raises(ConfigError):
        read_dotenv(dotenv(tmp_path, "X='open\n"))
    read_dotenv(dotenv(tmp_path, "X=1\n"))
    assert (dotenv_logger.level, dotenv_logger.disabled, dotenv_logger.propagate) == before
    assert dotenv_logger.handlers == handlers


@pytest.mark.parametrize("silence", ["level", "disabled", "logging.disable"])
def test_malformed_line_found_when_the_app_silenced_dotenv(
    tmp_path: Path, dotenv_logger: logging.Logger, silence: str
) -> None:
    if silence == "level":
        dotenv_logger.setLevel(logging.CRITICAL)
    elif silence == "disabled":
        dotenv_logger.disabled = True  # what dictConfig's disable_existing_loggers does
    else:
        logging.disable(logging.CRITICAL)
    with pytest.raises(ConfigError, match=r"\.env line 1 cannot be parsed"):
        read_dotenv(dotenv(tmp_path, "X='open\n"))
    if silence == "logging.disable":
        assert logging.root.manager.disable == logging.CRITICAL
    elif silence == "disabled":
        assert dotenv_logger.disabled
    else:
        assert dotenv_logger.level == logging.CRITICAL
