"""A fleet on the session cluster: two databases, a production one, three tenant schemas."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain
from tests.support import sql

TENANTS = ("acme", "globex", "initech")
TARGETS = """
[tool.dbtasks.targets.alpha]
url_env = "FLEET_ALPHA_URL"
group = "eu"

[tool.dbtasks.targets.beta]
url_env = "FLEET_BETA_URL"
group = "eu"
role = "staging"

[tool.dbtasks.targets.prod]
url_env = "FLEET_PROD_URL"
role = "production"
group = "eu"

[tool.dbtasks.targets.tenants]
url_env = "FLEET_TENANTS_URL"
tenancy = "schema"
members_file = "tenants.txt"
"""


@dataclass
class Fleet:
    project: ScratchProject
    databases: dict[str, str]  # target name -> database

    @property
    def root(self) -> Path:
        return self.project.root

    def query(self, target: str, statement: str) -> list[tuple[object, ...]]:
        return sql(self.project.settings().endpoint, statement, self.databases[target])

    def versions(self, target: str, schema: str = "app") -> list[str]:
        found = self.query(target, f"SELECT to_regclass('{schema}.alembic_version')")
        if found[0][0] is None:
            return []
        rows = self.query(target, f"SELECT version_num FROM {schema}.alembic_version")
        return [str(r[0]) for r in rows]

    def ledger(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.root / ".dbtasks" / "fleet" / "last-run.json").read_text()
        )
        return data

    def states(self) -> dict[str, str]:
        """Each member's state in the last run's ledger."""
        return {name: entry["state"] for name, entry in self.ledger()["members"].items()}


def url(settings: Settings, database: str) -> str:
    ep = settings.endpoint
    return (
        f"postgresql://{quote(ep.user, safe='')}:{quote(ep.password, safe='')}"
        f"@{ep.host}:{ep.port}/{database}"
    )


@pytest.fixture
def fleet(scratch: Path, cluster: Settings) -> Iterator[Fleet]:
    project = make_project(scratch, cluster)
    write_chain(project.versions, 3)
    (project.root / "pyproject.toml").write_text(
        '[tool.dbtasks]\nschema = "app"\n' + TARGETS, encoding="utf-8"
    )
    (project.root / "tenants.txt").write_text("# one tenant schema per line\n" + "\n".join(TENANTS))
    suffix = uuid.uuid4().hex[:8]
    databases = {name: f"fleet_{name}_{suffix}" for name in ("alpha", "beta", "prod")}
    databases["tenants"] = databases["alpha"]  # tenant schemas share alpha's database
    admin = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        for name in ("alpha", "beta", "prod"):
            cur.execute(f'CREATE DATABASE "{databases[name]}"')
    for name, database in databases.items():
        project.env[f"FLEET_{name.upper()}_URL"] = url(cluster, database)
    try:
        yield Fleet(project, databases)
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT datname FROM pg_database WHERE datistemplate AND "
                "shobj_description(oid, 'pg_database') LIKE ANY(%s)",
                ([f"dbtasks snapshot of={t}_tenant %" for t in ("customers", "tenants")],),
            )
            made = [str(row[0]) for row in cur.fetchall()]
            for name in made:
                cur.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
            for name in {*databases.values(), *made}:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
