"""A picture cut into chunks, and which chunk draws each table: what every format renders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dbtasks.erd import mermaid
from dbtasks.erd.model import TableKey
from dbtasks.erd.select import Picture
from dbtasks.erd.split import MAX_CHARS, MAX_TABLES, Chunk, split


@dataclass(frozen=True)
class Layout:
    picture: Picture
    chunks: tuple[Chunk, ...]
    where: dict[TableKey, int]  # the chunk that draws each table
    revisions: tuple[str, ...] = ()  # what it was read at; for a diff, B's
    since: tuple[str, ...] | None = None  # a diff's A

    @property
    def split(self) -> bool:
        return len(self.chunks) > 1

    def mermaid(self, chunk: Chunk) -> str:
        return mermaid.diagram(self.picture, chunk.tables, self.where)

    def title(self, chunk: Chunk) -> str:
        """ "Chunk 2 of 7: accounts … ledger (96 tables)"; "" when there is one chunk."""
        if not self.split:
            return ""
        names = [self.picture.name(k) for k in chunk.tables]
        span = names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"
        count = f"{len(names)} table{'s' if len(names) != 1 else ''}"
        return f"Chunk {chunk.number} of {len(self.chunks)}: {span} ({count})"


def lay_out(
    picture: Picture,
    revisions: tuple[str, ...] = (),
    since: tuple[str, ...] | None = None,
    max_tables: int = MAX_TABLES,
    max_chars: int = MAX_CHARS,
) -> Layout:
    def weigh(key: TableKey) -> int:
        return mermaid.weight(picture, key)

    def measure(keys: Sequence[TableKey]) -> int:
        # Stubs say where a table is drawn: the final chunk numbers change their length
        # by a character or two, well within the headroom of MAX_CHARS.
        return len(mermaid.diagram(picture, keys, {}))

    chunks = split(picture, weigh, measure, max_tables, max_chars)
    where = {key: chunk.number for chunk in chunks for key in chunk.tables}
    return Layout(picture, tuple(chunks), where, revisions, since)
