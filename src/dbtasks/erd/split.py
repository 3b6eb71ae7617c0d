"""Splitting a big picture into chunks a reader (and Mermaid) can take.

Tables that reference each other stay together: the foreign-key graph's connected parts,
each cut (when too big) along a breadth-first walk from its most connected table, are
packed in name order into chunks of at most `max_tables` tables and `max_chars`
characters of Mermaid. The walk and the packing depend only on the names and the
references, so the same schema always splits the same way, and a change moves only the
chunks from its own onward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dbtasks.erd.model import TableKey
from dbtasks.erd.select import Picture

MAX_TABLES = 100  # about what a reader takes in at once
MAX_CHARS = 45_000  # Mermaid refuses more than 50,000 characters; stubs and headroom


@dataclass(frozen=True)
class Chunk:
    number: int  # from 1
    tables: tuple[TableKey, ...]  # in name order

    @property
    def anchor(self) -> str:
        return f"erd-chunk-{self.number}"


def _edges(picture: Picture) -> dict[TableKey, set[TableKey]]:
    drawn = set(picture.drawn)
    graph: dict[TableKey, set[TableKey]] = {k: set() for k in picture.drawn}
    for table in picture.tables():
        for fk in table.foreign_keys:
            if fk.target in drawn and fk.target != table.key:
                graph[table.key].add(fk.target)
                graph[fk.target].add(table.key)
    return graph


def _components(graph: dict[TableKey, set[TableKey]]) -> list[list[TableKey]]:
    """Each connected part, in breadth-first order from its most connected table."""
    seen: set[TableKey] = set()
    parts = []
    for key in sorted(graph):
        if key in seen:
            continue
        members, stack = {key}, [key]
        while stack:
            for other in graph[stack.pop()] - members:
                members.add(other)
                stack.append(other)
        seen |= members
        parts.append(_walk(graph, members))
    return parts


def _walk(graph: dict[TableKey, set[TableKey]], members: set[TableKey]) -> list[TableKey]:
    start = min(members, key=lambda k: (-len(graph[k]), k))
    order, queued = [start], {start}
    for key in order:  # grows while walked
        for other in sorted(graph[key] - queued):
            queued.add(other)
            order.append(other)
    return order


def _pieces(
    order: list[TableKey], weigh: Callable[[TableKey], int], max_tables: int, budget: int
) -> list[list[TableKey]]:
    """`order` cut into consecutive pieces within both limits."""
    pieces: list[list[TableKey]] = [[]]
    size = 0
    for key in order:
        weight = weigh(key)
        if pieces[-1] and (len(pieces[-1]) >= max_tables or size + weight > budget):
            pieces.append([])
            size = 0
        pieces[-1].append(key)
        size += weight
    return pieces


def split(
    picture: Picture,
    weigh: Callable[[TableKey], int],
    measure: Callable[[Sequence[TableKey]], int],
    max_tables: int = MAX_TABLES,
    max_chars: int = MAX_CHARS,
) -> list[Chunk]:
    """The chunks of `picture`: `weigh` is one table's share of a chunk's text, `measure`
    a whole chunk's (stubs included), which must come out within `max_chars`."""
    budget = max_chars * 9 // 10  # the stubs a chunk draws take the rest
    pieces = [
        piece
        for part in _components(_edges(picture))
        for piece in _pieces(part, weigh, max_tables, budget)
    ]
    pieces.sort(key=min)
    packed: list[list[TableKey]] = []
    sizes: list[int] = []
    for piece in pieces:
        weight = sum(weigh(k) for k in piece)
        if packed and len(packed[-1]) + len(piece) <= max_tables and sizes[-1] + weight <= budget:
            packed[-1].extend(piece)
            sizes[-1] += weight
        else:
            packed.append(list(piece))
            sizes.append(weight)
    fitted = [part for group in packed for part in _fit(group, measure, max_chars)] or [[]]
    return [Chunk(i, tuple(sorted(keys))) for i, keys in enumerate(fitted, start=1)]


def _fit(
    keys: list[TableKey], measure: Callable[[Sequence[TableKey]], int], max_chars: int
) -> list[list[TableKey]]:
    """Halve a chunk whose text is still too long (its stubs were many, or big)."""
    if len(keys) < 2 or measure(sorted(keys)) <= max_chars:
        return [keys]
    half = len(keys) // 2
    return _fit(keys[:half], measure, max_chars) + _fit(keys[half:], measure, max_chars)
