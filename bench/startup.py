"""Start-up cost (`inv --list`, `inv stack.up`): the `startup` case of the bench.

    python bench/startup.py [python -m bench flags]

Kept so that existing instructions keep working; `inv bench --only startup` is the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "startup", *sys.argv[1:]]))
