"""The baseline revision's source: its SQL as Python string literals, and what it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dbtasks.squash import MARKER, folder_name

TEMPLATE = Path(__file__).parent.parent / "templates" / "_baseline.mako"


@dataclass(frozen=True)
class Source:
    """What the baseline template is given."""

    message: str
    upto: str
    replaces: tuple[str, ...]
    labels: tuple[str, ...]
    upgrade: list[str]
    downgrade: list[str]
    digest: str
    notes: list[str]
    carried: list[str]

    def values(self) -> dict[str, object]:
        return {
            "message": self.message,
            "up_revision": self.upto,
            "create_date": datetime.now().replace(microsecond=0),
            "branch_labels": self.labels or None,
            "marker": MARKER,
            "squash": _marker(self),
            "upgrade_sql": python_string(script(self.upgrade)),
            "downgrade_sql": python_string(script(self.downgrade)),
            "notes": [line.replace('"""', "'''") for line in self.notes],
            "carried": self.carried,
            "count": len(self.replaces),
            "squash_folder": folder_name(self.upto),
        }


def _marker(source: Source) -> str:
    replaces = "".join(f"        {rev!r},\n" for rev in source.replaces)
    return (
        "{\n"
        f'    "upto": {source.upto!r},\n'
        f'    "replaces": (\n{replaces}    ),\n'
        f'    "folder": {folder_name(source.upto)!r},\n'
        f'    "fingerprint": {source.digest!r},\n'
        "}"
    )


def script(statements: list[str]) -> str:
    """Statements as one script, each ended by a semicolon on its own line's end."""
    return "".join(f"{s.rstrip().rstrip(';')};\n\n" for s in statements)


def python_string(text: str) -> str:
    """`text` as a Python expression that reads back exactly: a raw triple-quoted string
    when nothing in it could end or bend one, else one literal per line."""
    printable = all(c.isprintable() or c in "\n\t" for c in text)
    if printable and '"""' not in text and not text.endswith(("\\", '"')):
        return f'r"""{text}"""'
    lines = text.splitlines(keepends=True) or [""]
    return "(\n" + "".join(f"    {line!r}\n" for line in lines) + ")"
