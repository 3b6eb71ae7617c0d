"""`inv --help db.validate` names every check db.validate knows, no more."""

from __future__ import annotations

import re

from dbtasks.tasks import db_read
from dbtasks.validate.run import CHECKS, ON_REQUEST


def test_the_help_names_exactly_the_checks() -> None:
    named = re.findall(r"(?:^|, )([a-z]+)", db_read.CHECKS)
    assert named == [*CHECKS, *ON_REQUEST]
