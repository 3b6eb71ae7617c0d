"""MindMirror's models on per-test databases from the dbtasks pytest plugin.

This is the pattern docs/testing.md describes: ask for `dbtasks_url` (or
`dbtasks_database`) and get a database of your own, migrated and seeded, dropped after.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from mindmirror.models import JournalEntry, Mood, Profile, auth_users

pytestmark = pytest.mark.integration


@pytest.fixture
def session(dbtasks_url: URL) -> Iterator[Session]:
    engine = create_engine(dbtasks_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_seed_is_there(session: Session) -> None:
    names = session.scalars(select(Profile.display_name).order_by(Profile.display_name)).all()
    assert names == ["Ada Example", "Grace Sample"]
    ada = session.scalars(select(Profile).where(Profile.display_name == "Ada Example")).one()
    assert {e.title for e in ada.entries} == {"A good start", "Deadline week"}


def write_probe(session: Session) -> int:
    """Both isolation tests write the same row; each must see only its own."""
    user_id = uuid.uuid4()
    session.execute(auth_users.insert().values(id=user_id))
    profile = Profile(id=user_id, display_name="isolation probe")
    session.add(profile)
    session.flush()
    session.add(JournalEntry(profile_id=profile.id, body="written by a test", mood=Mood.great))
    session.commit()
    count = session.scalar(select(func.count()).where(Profile.display_name == "isolation probe"))
    return int(count or 0)


def test_isolation_first(session: Session) -> None:
    assert write_probe(session) == 1


def test_isolation_second(session: Session) -> None:
    assert write_probe(session) == 1


@pytest.mark.dbtasks(seed=False)
def test_unseeded_database(session: Session) -> None:
    assert session.scalar(select(func.count()).select_from(Profile)) == 0
    assert session.scalar(select(func.now())) is not None
