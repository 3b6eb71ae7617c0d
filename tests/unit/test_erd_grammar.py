"""Mermaid validity: a grammar of our own, and Mermaid's own parser when it can be had.

`check` is the part of Mermaid's erDiagram grammar that every Mermaid since 10 accepts
(the intersection of 10.9's and 11's lexers, for the statements `dbtasks.erd.mermaid`
writes): it runs everywhere, and the tests below show it rejects what breaks a real
Mermaid. `mermaid_js` runs the real parser (`mermaid.parse` under jsdom, in Node) of the
pinned versions, installed once from npm into a cache; without Node, npm or the registry
the tests that use it skip.

Other test modules import `check`, `mermaid_js` and `MERMAID_VERSIONS` from here.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

MERMAID_VERSIONS = ("10.9.3", "11.17.2")
JSDOM = "29.1.1"
CACHE = Path(os.environ.get("DBTASKS_TEST_MERMAID", "~/.cache/dbtasks-tests/mermaid")).expanduser()

# The grammar (our own statement of it; see the module docstring).
_WORD = r"[A-Za-z_][A-Za-z0-9_]*"
_ENTITY = rf'(?:{_WORD}|"[^"%\\\x00-\x1f]+")'
_KEYWORDS = {
    *("erdiagram", "style", "classdef", "class", "subgraph", "end", "direction"),
    *("acctitle", "accdescr", "one", "many", "only", "zero", "to", "optionally", "u", "o"),
}
_KEY = r"(?:PK|FK|UK)"
_ATTRIBUTE = re.compile(
    r"(?P<type>[A-Za-z_][A-Za-z0-9_()\[\]-]*) (?P<name>" + _WORD + r")"
    rf'(?: {_KEY}(?:, ?{_KEY})*)?(?: "[^"\n]*")?'
)
_RELATION = re.compile(
    rf"(?P<a>{_ENTITY}) (?:\|o|\|\||\}}o|\}}\|)(?:--|\.\.)(?:o\||\|\||o\{{|\|\{{) "
    rf'(?P<b>{_ENTITY}) : "[^"\n]*"'
)
_OPEN = re.compile(rf"(?P<a>{_ENTITY})(?: \{{)?")


def _entity_ok(name: str) -> bool:
    return name.startswith('"') or name.lower() not in _KEYWORDS


def _attribute_ok(line: str) -> bool:
    found = _ATTRIBUTE.fullmatch(line)
    if found is None:
        return False
    leads = (re.split(r"[^A-Za-z0-9_]", found[g])[0].lower() for g in ("type", "name"))
    return not any(lead in ("pk", "fk", "uk") for lead in leads)


def check(text: str) -> list[str]:
    """What in `text` some Mermaid (10.9 or 11) would not parse, line by line."""
    lines = text.split("\n")
    if not lines or lines[0] != "erDiagram":
        return ["line 1: not erDiagram"]
    problems, inside = [], False
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line or line.startswith("%%"):
            continue
        if inside:
            if line == "}":
                inside = False
            elif not _attribute_ok(line):
                problems.append(f"line {number}: bad attribute {line!r}")
            continue
        relation, opened = _RELATION.fullmatch(line), _OPEN.fullmatch(line)
        found = relation or opened
        names = [v for v in found.groupdict().values() if v] if found else []
        if found is None or not all(_entity_ok(n) for n in names):
            problems.append(f"line {number}: bad statement {line!r}")
            continue
        inside = relation is None and line.endswith("{")
    if inside:
        problems.append("an entity's block is not closed")
    return problems


_BATCH = """
import { JSDOM } from 'jsdom';
import fs from 'node:fs';
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window; globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
const texts = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = [];
for (const t of texts) {
  try { await mermaid.parse(t); out.push(null); }
  catch (e) { out.push(String((e && e.message) || e).split('\\n').slice(0, 3).join(' | ')); }
}
process.stdout.write(JSON.stringify(out));
"""


def _installed(version: str) -> Path:
    """Mermaid `version` (and jsdom) in the cache, installed from npm once; skip without."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed: Mermaid's own parser cannot run")
    folder = CACHE / version
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test workers install once between them
        if not (folder / "node_modules" / "mermaid" / "package.json").is_file():
            folder.mkdir(exist_ok=True)
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix",
                 str(folder), f"mermaid@{version}", f"jsdom@{JSDOM}"],
                capture_output=True, text=True, timeout=600, check=False,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if done.returncode != 0:
                pytest.skip(f"npm could not install mermaid@{version}: {done.stderr[-300:]}")
        (folder / "batch.mjs").write_text(_BATCH)
    return folder


def mermaid_js(texts: Sequence[str], version: str) -> list[str | None]:
    """Mermaid's own parser on each text: None, or its error."""
    folder = _installed(version)
    done = subprocess.run(
        ["node", "batch.mjs"], cwd=folder, input=json.dumps(list(texts)),
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found: list[str | None] = json.loads(done.stdout)
    return found


# What breaks a real Mermaid (10.9 or 11), each found by running it.
BROKEN = {
    "numeric(10,2) as a type": "erDiagram\n  a {\n    numeric(10,2) price\n  }",
    "a keyword as a bare name": "erDiagram\n  end {\n    int x\n  }",
    "% in a quoted name": 'erDiagram\n  "a%b" {\n    int x\n  }',
    "a backslash in a quoted name": 'erDiagram\n  "a\\b" {\n    int x\n  }',
    "a non-ASCII attribute": "erDiagram\n  a {\n    int café\n  }",
    "a space in a type": "erDiagram\n  a {\n    character varying x\n  }",
}
FINE = {
    "quoted keyword": 'erDiagram\n  "end" {\n    int x\n  }',
    "keys and comment": 'erDiagram\n  a {\n    int x PK, FK, UK "c%; #x;"\n  }',
    "arrays and modifiers": "erDiagram\n  a {\n    integer[] x\n    varchar(80) y\n  }",
    "empty entity": "erDiagram\n  a\n  b {\n  }",
    "relationship": 'erDiagram\n  "a b (RLS on)" }o..|| "auth.users" : "id, on delete cascade"',
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_grammar_rejects_what_breaks_mermaid(name: str) -> None:
    assert check(BROKEN[name])


@pytest.mark.parametrize("name", sorted(FINE))
def test_the_grammar_accepts_what_mermaid_parses(name: str) -> None:
    assert check(FINE[name]) == []


def test_the_grammar_agrees_with_mermaid_itself() -> None:
    """Every text it rejects, some Mermaid refuses; every text it accepts, all parse."""
    broken = sorted(BROKEN)
    refused: dict[str, list[str]] = {n: [] for n in broken}
    for version in MERMAID_VERSIONS:
        assert mermaid_js([FINE[n] for n in sorted(FINE)], version) == [None] * len(FINE)
        for name, error in zip(
            broken, mermaid_js([BROKEN[n] for n in broken], version), strict=True
        ):
            if error is not None:
                refused[name].append(version)
    assert [n for n, versions in refused.items() if not versions] == []
