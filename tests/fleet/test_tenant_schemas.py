"""A new tenant schema's copy is an effect: it asks the member's grant, loads in one
transaction, and leaves nothing behind when refused or when the load fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg2
import pytest

from dbtasks.errors import DbTasksError, Refused
from dbtasks.fleet.members import Member
from dbtasks.fleet.targets import Role, Target, Tenancy
from dbtasks.fleet.tenant_schemas import _load, template_schema
from tests.fleet.conftest import Fleet

TEMPLATE = template_schema("tenants")
DUMP = f"CREATE SCHEMA {TEMPLATE}; CREATE TABLE {TEMPLATE}.notes (id serial PRIMARY KEY)"


def _member(fleet: Fleet, schema: str, port: int | None = None) -> Member:
    base = fleet.project.settings()
    endpoint = replace(base.endpoint, database=fleet.databases["alpha"])
    if port is not None:
        endpoint = replace(endpoint, port=port)
    target = Target("tenants", Role.LOCAL, tenancy=Tenancy.SCHEMA)
    return Member(f"tenants/{schema}", target, replace(base, endpoint=endpoint, schema=schema))


def _schemas(fleet: Fleet) -> set[str]:
    rows = fleet.query("alpha", "SELECT nspname FROM pg_namespace")
    return {str(row[0]) for row in rows}


@pytest.fixture
def conn(fleet: Fleet) -> Iterator[Any]:
    ep = fleet.project.settings().endpoint
    made = psycopg2.connect(**ep.connect_kwargs(fleet.databases["alpha"]))
    yield made
    made.close()


def test_the_copy_lands_under_the_tenants_name(fleet: Fleet, conn: object) -> None:
    _load(conn, _member(fleet, "umbrella"), DUMP, TEMPLATE)
    assert "umbrella" in _schemas(fleet) and TEMPLATE not in _schemas(fleet)
    fleet.query("alpha", "INSERT INTO umbrella.notes DEFAULT VALUES")


def test_a_grant_for_another_server_copies_nothing(fleet: Fleet, conn: object) -> None:
    elsewhere = _member(fleet, "umbrella", port=1)
    with pytest.raises(Refused):
        _load(conn, elsewhere, DUMP, TEMPLATE)
    assert not {"umbrella", TEMPLATE} & _schemas(fleet)


def test_a_failing_load_rolls_back_whole(fleet: Fleet, conn: object) -> None:
    broken = DUMP + "; SELECT * FROM no_such_table"
    with pytest.raises(DbTasksError, match="tenants/umbrella: the template could not be copied"):
        _load(conn, _member(fleet, "umbrella"), broken, TEMPLATE)
    assert not {"umbrella", TEMPLATE} & _schemas(fleet)
    fleet.query("alpha", "CREATE SCHEMA umbrella")  # a tenant made meanwhile by another run
    with pytest.raises(DbTasksError, match="already exists"):
        _load(conn, _member(fleet, "umbrella"), DUMP, TEMPLATE)
    assert TEMPLATE not in _schemas(fleet)
