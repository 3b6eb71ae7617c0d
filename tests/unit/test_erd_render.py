"""`dbtasks.erd` without a database: what each format says, how big schemas split, what a
diff marks, and which tables a focus draws. The schemas are built as data here; the
integration tests read real ones."""

from __future__ import annotations

import json

import pytest

from dbtasks.erd import markdown, mermaid
from dbtasks.erd.diff import compare
from dbtasks.erd.dot import graph
from dbtasks.erd.jsonout import document
from dbtasks.erd.layout import lay_out
from dbtasks.erd.model import Column, EnumType, ForeignKey, Schema, Table
from dbtasks.erd.select import picture
from dbtasks.errors import ConfigError
from tests.unit.test_erd_grammar import MERMAID_VERSIONS, check, mermaid_js

MOOD = EnumType("app", "mood", ("great", "good", "low"))


def awkward() -> Schema:
    """Types and names that break other tools' Mermaid."""
    users = Table(
        "auth",
        "users",
        columns=(Column("id", "uuid", False),),
        primary_key=("id",),
    )
    odd = Table(
        "app",
        "Order Lines",
        columns=(
            Column("id", "bigint", False, identity="always"),
            Column("price", "numeric(10,2)", False),
            Column("tags", "text[]"),
            Column("prices", "numeric(10,2)[]"),
            Column("mood", "mood", udt=("app", "mood"), udt_kind="enum"),
            Column("moods", "mood[]", udt=("app", "mood"), udt_kind="enum", array=True),
            Column("Total Sum", "double precision", generated="price * 2"),
            Column("pk", "integer"),
            Column("at", "timestamp(3) with time zone", comment='said "when"\nand where'),
            Column("owner", "uuid"),
        ),
        primary_key=("id",),
        foreign_keys=(ForeignKey("fk_owner", ("owner",), ("auth", "users"), ("id",), "set null"),),
    )
    keyword = Table("app", "end", columns=(Column("one", "integer"),))
    percent = Table("app", 'a%b\\c"d', columns=())
    tables = {t.key: t for t in (users, odd, keyword, percent)}
    return Schema(tables, {("app", "mood"): MOOD})


def test_awkward_types_and_names_render_as_valid_mermaid() -> None:
    shown = picture(awkward(), [], "app", rls_badges=False)
    text = markdown.mermaid_text(lay_out(shown))
    assert check(text) == []
    assert "numeric price PK" not in text  # price is not a key
    assert 'numeric price "numeric(10,2)"' in text
    assert "numeric[] prices" in text and "text[] tags" in text
    assert 'mood mood "enum: great, good, low"' in text
    assert 'float8 Total_Sum "column Total Sum; generated: price * 2"' in text
    assert "integer _pk" in text  # never read as a key
    assert "timestamptz(3) at \"said 'when' and where\"" in text
    assert '"end"' in text and '"a\uff05b\uff3cc\'d"' in text  # lookalikes
    assert '"auth.users" {' in text and "managed by Supabase" in text
    assert '"Order Lines" }o..o| "auth.users" : "owner, on delete set null"' in text


def test_mermaid_itself_parses_every_format_we_write() -> None:
    shown = picture(awkward(), [], "app", rls_badges=True)
    texts = [markdown.mermaid_text(lay_out(shown)), *_chunks(thousand())]
    for version in MERMAID_VERSIONS:
        assert mermaid_js(texts, version) == [None] * len(texts), version


def _chunks(schema: Schema) -> list[str]:
    layout = lay_out(picture(schema, [], "app", rls_badges=False))
    return [layout.mermaid(c) for c in layout.chunks]


def thousand(clusters: int = 200, size: int = 5) -> Schema:
    """1,000 tables: clusters of `size` tables, each referencing its cluster's first."""
    tables = {}
    for c in range(clusters):
        for i in range(size):
            columns = [Column("id", "bigint", False)]
            columns += [Column(f"value_{n}", "character varying(200)") for n in range(8)]
            fks: tuple[ForeignKey, ...] = ()
            if i:
                columns.append(Column("head_id", "bigint", False))
                fks = (ForeignKey(f"fk_{c}_{i}", ("head_id",), ("app", f"c{c:03d}_t0"), ("id",)),)
            name = f"c{c:03d}_t{i}"
            table = Table(
                "app", name, columns=tuple(columns), primary_key=("id",), foreign_keys=fks
            )
            tables[table.key] = table
    return Schema(tables)


def test_a_thousand_tables_split_within_mermaids_limits() -> None:
    schema = thousand()
    layout = lay_out(picture(schema, [], "app", rls_badges=False))
    drawn = [k for c in layout.chunks for k in c.tables]
    assert sorted(drawn) == sorted(schema.tables)  # each table once
    assert len(layout.chunks) >= 10
    for chunk in layout.chunks:
        text = layout.mermaid(chunk)
        assert len(text) < 50_000 and len(chunk.tables) <= 100
        assert check(text) == []
    # Foreign-key clusters stay whole: a cluster's tables share a chunk.
    for c in range(200):
        assert len({layout.where[("app", f"c{c:03d}_t{i}")] for i in range(5)}) == 1
    page = markdown.page(layout)
    assert page.count("```mermaid") == len(layout.chunks)
    assert "| [1](#erd-chunk-1) |" in page


def test_one_huge_cluster_is_cut_and_its_stubs_say_where_the_rest_is() -> None:
    schema = thousand(clusters=1, size=400)
    layout = lay_out(picture(schema, [], "app", rls_badges=False))
    assert len(layout.chunks) >= 4
    second = layout.mermaid(layout.chunks[1])
    assert "drawn in chunk 1" in second  # the cluster's head is drawn in chunk 1
    assert all(len(layout.mermaid(c)) < 50_000 for c in layout.chunks)


def test_the_same_schema_always_splits_the_same_way() -> None:
    first = markdown.page(lay_out(picture(thousand(), [], "app", rls_badges=False)))
    again = markdown.page(lay_out(picture(thousand(), [], "app", rls_badges=False)))
    assert first == again


def test_focus_draws_the_table_and_its_neighbours_to_the_depth_asked() -> None:
    schema = thousand(clusters=3)
    near = picture(schema, [], "app", rls_badges=False, focus_on="c001_t3", depth=1)
    assert near.drawn == (("app", "c001_t0"), ("app", "c001_t3"))
    far = picture(schema, [], "app", rls_badges=False, focus_on="app.c001_t3", depth=2)
    assert len(far.drawn) == 5
    alone = picture(schema, [], "app", rls_badges=False, focus_on="c001_t3", depth=0)
    assert alone.stubs(alone.drawn) == {("app", "c001_t0"): ("id",)}


def test_an_unknown_focus_is_bad_input_naming_the_closest_tables() -> None:
    with pytest.raises(ConfigError, match=r"did you mean c001_t3"):
        picture(thousand(clusters=3), [], "app", rls_badges=False, focus_on="c001_t33")


def test_an_unknown_schema_is_bad_input_naming_the_schemas() -> None:
    with pytest.raises(ConfigError, match=r"schemas with tables: app, auth"):
        picture(awkward(), ["nope"], "app", rls_badges=False)


def test_managed_schemas_are_hidden_unless_named() -> None:
    assert ("auth", "users") not in picture(awkward(), [], "app", rls_badges=False).drawn
    named = picture(awkward(), ["auth"], "app", rls_badges=False)
    assert named.drawn == (("auth", "users"),) and named.home == "auth"


def _notes(extra: tuple[Column, ...] = ()) -> Table:
    columns = (Column("id", "integer", False), *extra)
    return Table("app", "notes", columns=columns, primary_key=("id",))


def test_a_diff_marks_exactly_what_changed_and_draws_its_neighbours() -> None:
    before = Schema({t.key: t for t in (_notes((Column("legacy", "text"),)),)})
    added = Table(
        "app",
        "likes",
        columns=(Column("note_id", "integer", False),),
        foreign_keys=(ForeignKey("fk_likes_note", ("note_id",), ("app", "notes"), ("id",)),),
    )
    after = Schema({t.key: t for t in (_notes(), added)})
    merged, changes = compare(before, after)
    assert changes.summary() == ["+ table app.likes", "- column app.notes.legacy"]
    shown = picture(merged, [], "app", rls_badges=False, changes=changes)
    layout = lay_out(shown)
    text = markdown.page(layout)
    assert "- `+ table app.likes`" in text and "- `- column app.notes.legacy`" in text
    assert '"likes (added)"' in text and '"notes (changed)"' in text
    assert 'text legacy "dropped"' in text
    assert check(layout.mermaid(layout.chunks[0])) == []
    payload = json.loads(document(layout))
    assert payload["changes"] == changes.summary()
    dot = graph(shown, shown.drawn, layout.where)
    assert "<S>legacy</S>" in dot and "#b7e4c0" in dot  # struck out; the added table green


def test_a_diff_names_a_changed_type_and_nullability() -> None:
    before = Schema({("app", "notes"): _notes((Column("n", "integer"),))})
    after = Schema({("app", "notes"): _notes((Column("n", "bigint", False),))})
    _, changes = compare(before, after)
    assert changes.summary() == ["~ column app.notes.n: type integer → bigint; now NOT NULL"]


def test_rls_shows_on_every_table_of_a_supabase_project_and_where_on_elsewhere() -> None:
    locked = Table("app", "a", columns=(Column("x", "int"),), rls=True, policies=2)
    open_ = Table("app", "b", columns=(Column("x", "int"),))
    schema = Schema({t.key: t for t in (locked, open_)})
    supabase = markdown.mermaid_text(lay_out(picture(schema, [], "app", rls_badges=True)))
    assert '"a (RLS on, 2 policies)"' in supabase and '"b (RLS off)"' in supabase
    plain = markdown.mermaid_text(lay_out(picture(schema, [], "app", rls_badges=False)))
    assert '"a (RLS on, 2 policies)"' in plain and "\n    b {" in plain


def test_type_words_keep_what_mermaid_reads_and_move_the_rest_to_the_comment() -> None:
    assert mermaid.type_word("character varying(80)") == "varchar(80)"
    assert mermaid.type_word("timestamp(3) with time zone[]") == "timestamptz(3)[]"
    assert mermaid.type_word("numeric(10,2)[]") == "numeric[]"
    assert mermaid.type_word('"My Schema"."Odd Type"') == "Odd_Type"
    assert mermaid.type_word("pk") == "_pk"
