"""SVG through Graphviz's `dot`, when it is installed: one layout per chunk (dot's time
grows much faster than the tables it places), run side by side, then stacked into one
self-contained SVG document with each chunk's title above it."""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from dbtasks import shell
from dbtasks.erd.dot import FONT, graph
from dbtasks.erd.layout import Layout
from dbtasks.errors import ConfigError, DbTasksError, last_line

BAND = 30  # the height of a chunk's title, in points


def find_dot() -> str:
    """Graphviz's `dot`, or bad input (exit 2): the text formats need nothing installed."""
    found = shutil.which("dot")
    if found is None:
        raise ConfigError(
            "svg and html need Graphviz's dot, which is not installed",
            "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
            "graphviz), or use --format mermaid, markdown, dot or json",
        )
    return found


def _layout(dot: str, source: str, folder: Path, number: int) -> str:
    path = folder / f"chunk-{number}.dot"
    path.write_text(source, encoding="utf-8")
    done = shell.run([dot, "-Tsvg", str(path)])
    if done.returncode != 0:
        raise DbTasksError(f"dot failed on chunk {number}: {last_line(done.stderr)}")
    return _element(done.stdout)


def _element(svg: str) -> str:
    """The `<svg>` element alone: no XML declaration, doctype or comments before it."""
    return svg[svg.index("<svg") :].strip() + "\n"


def chunks(layout: Layout) -> list[str]:
    """Each chunk's SVG element, in chunk order."""
    dot = find_dot()
    sources = [graph(layout.picture, c.tables, layout.where) for c in layout.chunks]
    workers = max(1, min(len(sources), os.cpu_count() or 1))
    with (
        tempfile.TemporaryDirectory(prefix="dbtasks-erd-") as folder,
        ThreadPoolExecutor(workers) as pool,
    ):
        made = pool.map(
            lambda pair: _layout(dot, pair[1], Path(folder), pair[0]), enumerate(sources, 1)
        )
        return list(made)


def _root(element: str) -> ElementTree.Element:
    """dot's own <svg> tag (its output of text we wrote, escaped): size and view box."""
    return ElementTree.fromstring(element[: element.index(">") + 1] + "</svg>")  # noqa: S314


def _size(element: str) -> tuple[float, float]:
    root = _root(element)
    return _points(root.get("width", "0")), _points(root.get("height", "0"))


def _points(value: str) -> float:
    return float(value.removesuffix("pt").removesuffix("px") or 0)


def document(layout: Layout) -> str:
    """One SVG document: dot's own for one chunk, else the chunks stacked."""
    made = chunks(layout)
    if not layout.split:
        return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + made[0]
    sizes = [_size(m) for m in made]
    width = max(w for w, _ in sizes)
    parts, y = [], 0.0
    for chunk, element, (w, h) in zip(layout.chunks, made, sizes, strict=True):
        title = escape(layout.title(chunk))
        parts.append(
            f'<text x="12" y="{y + BAND * 0.7:.2f}" font-family="{FONT}" font-size="14" '
            f'font-weight="bold">{title}</text>'
        )
        inner = element[element.index(">") + 1 :]  # dot's own <svg ...> tag is replaced
        view = _root(element).get("viewBox", f"0 0 {w} {h}")
        parts.append(
            f'<svg x="0" y="{y + BAND:.2f}" width="{w:.2f}" height="{h:.2f}" '
            f'viewBox="{view}">{inner}'
        )
        y += BAND + h
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width:.2f}pt" height="{y:.2f}pt" viewBox="0 0 {width:.2f} {y:.2f}">\n'
        '<rect width="100%" height="100%" fill="white"/>\n'
    )
    return head + "\n".join(parts) + "</svg>\n"
