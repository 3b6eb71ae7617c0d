"""`diff` over descriptions built by hand: every kind of difference is one readable line."""

from __future__ import annotations

from dataclasses import replace

from dbtasks.catalog import (
    Column,
    Constraint,
    Description,
    EnumType,
    Index,
    SequenceDef,
    Table,
    View,
    diff,
)

ID = Column("id", "integer", False, None, "by default", None, None)
MOOD = Column("mood", "integer", True, None, None, None, None)


def notes(*columns: Column) -> Description:
    return Description(
        schemas=("app",),
        tables={
            ("app", "notes"): Table(
                tuple(sorted(columns, key=lambda c: c.name)), tuple(c.name for c in columns)
            )
        },
        constraints={("app", "notes", "notes_pkey"): Constraint("primary key", "PRIMARY KEY (id)")},
        indexes={("app", "notes", "notes_pkey"): Index("CREATE UNIQUE INDEX notes_pkey ON notes")},
        enums={("app", "mood"): EnumType(("happy", "sad"))},
        sequences={
            ("app", "notes_id_seq"): SequenceDef("integer", 1, 1, 1, 2147483647, False, "notes.id")
        },
        views={("app", "happy"): View(False, "SELECT 1")},
    )


def test_equal_descriptions_have_no_difference() -> None:
    assert diff(notes(ID, MOOD), notes(ID, MOOD)) == []
    assert notes(ID, MOOD) == notes(ID, MOOD)


def test_column_type_nullability_and_default() -> None:
    changed = replace(MOOD, type="text", nullable=False, default="'ok'::text")
    assert diff(notes(ID, MOOD), notes(ID, changed)) == [
        "column app.notes.mood: type integer ≠ text",
        "column app.notes.mood: nullable true ≠ false",
        "column app.notes.mood: default (none) ≠ 'ok'::text",
    ]


def test_missing_and_extra_columns() -> None:
    assert diff(notes(ID, MOOD), notes(ID)) == ["column app.notes.mood missing"]
    assert diff(notes(ID), notes(ID, MOOD)) == ["column app.notes.mood extra"]


def test_column_order_only_when_asked() -> None:
    """A downgrade can only append a column it re-adds: order is not the schema's."""
    assert notes(ID, MOOD) == notes(MOOD, ID)
    assert diff(notes(ID, MOOD), notes(MOOD, ID)) == []
    assert diff(notes(ID, MOOD), notes(MOOD, ID), column_order=True) == [
        "table app.notes: column order id, mood ≠ mood, id"
    ]


def test_every_other_kind() -> None:
    a = notes(ID)
    b = replace(
        a,
        schemas=("app", "extra"),
        tables={},
        constraints={("app", "notes", "pk_notes"): Constraint("primary key", "PRIMARY KEY (id)")},
        indexes={("app", "notes", "notes_pkey"): Index("CREATE INDEX notes_pkey ON notes")},
        enums={("app", "mood"): EnumType(("happy", "sad", "meh"))},
        sequences={
            ("app", "notes_id_seq"): SequenceDef("bigint", 1, 1, 1, 2147483647, False, None)
        },
        views={("app", "happy"): View(True, "SELECT 1")},
    )
    assert diff(a, b) == [
        "schema extra extra",
        "table app.notes missing",
        "constraint app.notes.notes_pkey missing",
        "constraint app.notes.pk_notes extra",
        "index app.notes.notes_pkey: definition CREATE UNIQUE INDEX notes_pkey ON notes ≠ "
        "CREATE INDEX notes_pkey ON notes",
        "enum app.mood: labels happy, sad ≠ happy, sad, meh",
        "sequence app.notes_id_seq: type integer ≠ bigint",
        "sequence app.notes_id_seq: owned_by notes.id ≠ (none)",
        "view app.happy: materialized false ≠ true",
    ]


def test_a_missing_schema_is_named() -> None:
    empty = Description((), {}, {}, {}, {}, {}, {})
    assert diff(empty, empty) == []
    assert diff(notes(ID), empty)[0] == "schema app missing"
