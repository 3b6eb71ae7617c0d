"""`inv db.reset --yes` against raw Alembic and a bare template clone: the `reset` case.

    python bench/reset.py [python -m bench flags]

Kept so that existing instructions keep working; `inv bench --only reset` is the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "reset", *sys.argv[1:]]))
