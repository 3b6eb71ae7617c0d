"""`inv db.squash`: one baseline revision in place of a long history, proven equal.

How Alembic sees it. Alembic's graph knows only "and": a revision runs after all of its
parents, and an upgrade to the heads applies every ancestor not yet applied. It has no "or"
(either the old chain or the baseline), so the old chain and the baseline cannot both be
live revisions of one graph: a fresh database would replay both, or the graph would have two
heads. So the squash keeps one graph and moves the old chain beside it:

- the baseline takes the id of the revision it squashes up to (REV), with no parent: a
  database at REV is at the baseline, and every later revision (whose `down_revision` names
  REV) is unchanged; a fresh database applies the baseline and then the later revisions;
- the replaced files move, unchanged, into `<version folder>/replaced_by_<REV>/`, which
  Alembic does not read (version folders are not recursive): `db.upgrade`, `db.status`,
  `db.history` and the graph check see one root and one line of history;
- a database at a replaced revision is brought to REV by `inv db.squash --catch-up`, which
  runs the old files from that folder (a workspace whose version locations are that folder),
  then `inv db.upgrade` goes on as usual;
- the baseline's module names what it replaces (`dbtasks_squash`), which `db.validate`'s
  `squash` check reads to prove the equivalence again, and `--prune` (after every database
  the user names is past REV) deletes the folder.

See docs/squash.md.
"""

from __future__ import annotations

MARKER = "dbtasks_squash"  # the module-level dict a baseline revision declares
FOLDER_PREFIX = "replaced_by_"


def folder_name(upto: str) -> str:
    """The folder (inside each version folder) the replaced files move into."""
    return f"{FOLDER_PREFIX}{upto}"
