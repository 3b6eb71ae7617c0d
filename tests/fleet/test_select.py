"""Targets parsing and selection: production stays out of broad runs; shards are stable."""

from __future__ import annotations

import pytest

from dbtasks.errors import ConfigError, Refused
from dbtasks.fleet.select import Shard, in_shard, parse_shard, require_consent, select
from dbtasks.fleet.targets import parse_targets

TABLE = {
    "staging": {"url_env": "STAGING_DATABASE_URL", "role": "staging", "group": "eu"},
    "prod": {"url_env": "PROD_DATABASE_URL", "role": "production", "group": "eu"},
}


def test_production_is_left_out_of_all_and_group() -> None:
    targets = parse_targets(TABLE)
    assert [t.name for t in select(targets, every=True)] == ["staging"]
    assert [t.name for t in select(targets, group="eu")] == ["staging"]
    named = select(targets, names=["prod"])
    with pytest.raises(Refused):
        require_consent(named, yes=False)
    require_consent(named, yes=True)


def test_a_password_in_the_file_is_refused_without_showing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_targets({"x": {"url": "postgresql://u:s3cret-pass@db.invalid/app"}})
    assert "s3cret-pass" not in str(caught.value)
    assert "password" in str(caught.value)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match="did you mean role"):
        parse_targets({"x": {"url_env": "X", "rol": "staging"}})


def test_shards_partition_the_targets() -> None:
    names = [f"tenant{i}" for i in range(200)]
    shares = [{n for n in names if in_shard(n, Shard(i, 3))} for i in range(3)]
    assert set().union(*shares) == set(names)
    assert sum(len(s) for s in shares) == len(names)
    assert parse_shard("auto/3", {"JOB_COMPLETION_INDEX": "2"}) == Shard(2, 3)
    with pytest.raises(ConfigError):
        parse_shard("3/3", {})
