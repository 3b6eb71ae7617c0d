"""`inv db.erd` never touches the network, and its pictures look right to a person.

Everything runs in a loopback-only network namespace (as tests/security does for other
hosts): a native cluster of its own started there, then `db.erd` in every format, each
run traced: `strace` records every `connect()` of the process and its children (libpq's,
dot's) where it is installed, and a Python audit hook those of Python code everywhere.
The HTML and SVG it writes are then opened by headless Chromium, in the namespace too,
and photographed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.projects import ScratchProject, make_project
from tests.support import HOSTILE_PASSWORD, free_port, scratch_dir

pytestmark = pytest.mark.e2e

NETNS = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "netns"]
# `inv ARGS` under an audit hook: every address a socket connects to, appended to LOG;
# one loopback connect first shows the hook is listening.
WATCHED = """
import json, socket, sys
seen = []
def hook(event, args):
    if event == "socket.connect":
        seen.append(repr(args[1]))
sys.addaudithook(hook)
with socket.socket() as probe:
    probe.connect_ex(("127.0.0.1", 9))
from invoke.main import program
try:
    program.run(["inv", *sys.argv[2:]])
finally:
    with open(sys.argv[1], "a") as log:
        log.write(json.dumps(seen) + "\\n")
"""
# The steps, in order, inside the namespace; the cluster is destroyed whatever happens.
DRIVER = """
import subprocess, sys
python, watched, log, strace = sys.argv[1:5]
steps = [a.split("|") for a in sys.argv[5:]]
code = 0
try:
    for n, step in enumerate(steps):
        traced = []
        if strace and step[0] == "db.erd":
            traced = [strace, "-f", "-qq", "-e", "trace=connect", "-o", f"{log}.strace{n}"]
        done = subprocess.run([*traced, python, watched, log, *step])
        code = code or done.returncode
finally:
    subprocess.run([python, watched, log, "stack.down", "--destroy", "--yes"])
sys.exit(code)
"""
CHROMIUM = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
)  # fmt: skip


def _netns_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    done = subprocess.run([*NETNS, "true"], capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture
def isolated(tmp_path: Path, cluster: object) -> Iterator[ScratchProject]:
    """MindMirror's project with a cluster of its own (started inside the namespace)."""
    if not _netns_works():
        pytest.skip("no loopback-only network namespace here (unshare -n needs root)")
    project = make_project(tmp_path, cluster, with_mindmirror=True)  # type: ignore[arg-type]
    with scratch_dir("erd-netns") as data:
        project.env.update(
            DB_PORT=str(free_port()),
            DB_PASS=HOSTILE_PASSWORD,
            DB_DATA_DIR=str(data / "pgdata"),
            DB_SCHEMA="mindmirror",
            DB_BACKEND="native",
        )
        yield project


def _in_namespace(project: ScratchProject, *steps: list[str]) -> Traced:
    (project.root / "watched.py").write_text(WATCHED)
    (project.root / "driver.py").write_text(DRIVER)
    log = project.root / "connections.jsonl"
    strace = shutil.which("strace") or ""
    done = subprocess.run(
        [*NETNS, sys.executable, "driver.py", sys.executable, "watched.py", str(log), strace,
         *("|".join(step) for step in steps)],
        cwd=project.root, env=project.inv_env(), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    python = [a for line in log.read_text().splitlines() for a in json.loads(line)]
    traced = [
        line
        for path in sorted(project.root.glob("connections.jsonl.strace*"))
        for line in path.read_text().splitlines()
        if "connect(" in line and ("AF_INET" in line)
    ]
    return Traced(python, traced, bool(strace))


@dataclass(frozen=True)
class Traced:
    python: list[str]  # addresses Python code connected to
    system: list[str]  # strace's connect() lines of IP sockets, any process
    traced: bool  # strace was there


def _loopback(address: str) -> bool:
    """A Unix socket, or a TCP address on this machine (Python's spelling)."""
    return address.startswith(("'/", '"/', "('127.", "('::1'", "('localhost'"))


def _loopback_line(line: str) -> bool:
    """An IP connect() to this machine (strace's spelling)."""
    return 'inet_addr("127.' in line or 'inet_pton(AF_INET6, "::1"' in line


def test_db_erd_makes_no_outbound_connection(isolated: ScratchProject) -> None:
    formats = ["mermaid", "markdown", "json", "dot"]
    if shutil.which("dot"):
        formats += ["svg", "html"]
    steps = [["stack.up"]]
    steps += [["db.erd", "--format", f, "--output", f"erd.{f}"] for f in formats]
    steps.append(["db.erd", "--diff", "-1..head", "--format", "json", "--output", "diff.json"])
    seen = _in_namespace(isolated, *steps)
    assert "('127.0.0.1', 9)" in seen.python  # the hook listened
    assert [a for a in seen.python if not _loopback(a)] == []
    if seen.traced:  # libpq's connections, seen: the trace would see any other
        port = f"htons({isolated.env['DB_PORT']})"
        assert any(port in line and _loopback_line(line) for line in seen.system), seen.system
        assert [line for line in seen.system if not _loopback_line(line)] == []
    assert json.loads((isolated.root / "diff.json").read_text())["changes"]
    for f in formats:
        assert (isolated.root / f"erd.{f}").stat().st_size > 500, f


def _screenshot(page: Path, png: Path, profile: Path, size: str) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser is not None
    done = subprocess.run(
        [*NETNS, browser, *CHROMIUM, f"--user-data-dir={profile}", f"--window-size={size}",
         f"--screenshot={png}", page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert png.is_file(), done.stderr[-2000:]


def test_the_html_and_svg_look_like_a_diagram(isolated: ScratchProject, tmp_path: Path) -> None:
    """Photographed offline; kept in the test's folder for a person to look at."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    _in_namespace(
        isolated,
        ["stack.up"],
        ["db.erd", "--format", "html", "--output", "erd.html"],
        ["db.erd", "--format", "svg", "--output", "erd.svg"],
    )
    html = (isolated.root / "erd.html").read_text()
    # Nothing to fetch: the only URLs are the SVG namespaces, which are names, not loads.
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert set(_urls(html)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    shots = {}
    for name in ("blank.html", "erd.html", "erd.svg"):
        page = blank if name == "blank.html" else isolated.root / name
        shots[name] = tmp_path / f"{name}.png"
        _screenshot(page, shots[name], tmp_path / f"profile-{name}", "1400,1000")
    # A drawn page is far busier than a blank one (PNG compresses a blank page to little).
    empty = shots["blank.html"].stat().st_size
    assert shots["erd.html"].stat().st_size > 10 * empty
    assert shots["erd.svg"].stat().st_size > 10 * empty


def _urls(text: str) -> list[str]:
    import re

    return re.findall(r"https?://[^\s\"'<>)]+", text)
