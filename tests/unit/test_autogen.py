"""Revision messages, operation summaries and the lock key."""

from __future__ import annotations

import pytest
from alembic.operations import ops
from sqlalchemy import Column, Integer

from dbtasks.adapter.autogen import _diff_line, summarize
from dbtasks.errors import ConfigError
from dbtasks.flows.author import validate_message
from dbtasks.migrations.lock import NAMESPACE, lock_key


@pytest.mark.parametrize("message", ["add mood", "añadir ánimo", "v2: split tags/entries"])
def test_valid_messages(message: str) -> None:
    assert validate_message(f"  {message} ") == message


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        (None, "is empty"),
        ("a" * 101, "101 characters"),
        ("two\nlines", "line break"),
        ("tab\there", "control character"),
        ("?!", "no letter"),
    ],
)
def test_invalid_messages(message: str | None, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        validate_message(message)


def test_summary_names_each_operation() -> None:
    upgrade = ops.UpgradeOps(
        ops=[
            ops.CreateTableOp("tags", [Column("id", Integer, primary_key=True)]),
            ops.ModifyTableOps(
                "entries",
                ops=[
                    ops.AddColumnOp("entries", Column("mood", Integer)),
                    ops.DropIndexOp("ix_old", table_name="entries"),
                ],
            ),
            ops.ExecuteSQLOp("CREATE TYPE mood AS ENUM ('good')"),
        ]
    )
    assert summarize(upgrade) == [
        "add table tags",
        "add column entries.mood",
        "drop index entries (ix_old)",
        "create enum type mood",
    ]


def test_a_drift_line_names_the_table_once() -> None:
    from sqlalchemy import MetaData, Table

    column = Column("mood", Integer)
    Table("notes", MetaData(), Column("id", Integer), column)
    assert _diff_line(("add_column", None, "notes", column)) == "add column notes.mood"
    assert _diff_line(("remove_table", Table("gone", MetaData()))) == "remove table gone"


def test_lock_key_depends_on_database_and_schema() -> None:
    assert lock_key("a", "s") == lock_key("a", "s")
    assert lock_key("a", "s") != lock_key("a", "t")
    assert lock_key("a", "s") != lock_key("b", "s")
    assert lock_key("a", "s")[0] == NAMESPACE
    assert all(0 <= part < 2**31 for part in lock_key("a", "s"))
