"""The wait loop and error classification, with an injected clock: no sleeping."""

from __future__ import annotations

import pytest

from dbtasks.errors import ConfigError, HealthError
from dbtasks.health import (
    AUTH_FAILED,
    BAD_OPTION,
    DB_MISSING,
    HOST_UNKNOWN,
    REFUSED,
    STARTING,
    TIMED_OUT,
    HealthReport,
    classify,
    probe,
    wait_healthy,
)
from dbtasks.target import Endpoint, from_url

EP = Endpoint("127.0.0.1", 5999, "postgres", "pw", "app")
OK = HealthReport("15.4", 1.0, 0.1)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def attempts(*outcomes: HealthReport | str):  # type: ignore[no-untyped-def]
    remaining = list(outcomes)
    calls: list[float] = []

    def attempt(endpoint: Endpoint, timeout: float) -> HealthReport:
        calls.append(timeout)
        outcome = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(outcome, str):
            raise HealthError("boom", outcome)
        return outcome

    attempt.calls = calls  # type: ignore[attr-defined]
    return attempt


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ('connection to server at "127.0.0.1", port 5999 failed: Connection refused', REFUSED),
        ('FATAL:  password authentication failed for user "postgres"', AUTH_FAILED),
        ('FATAL:  role "bob" does not exist', AUTH_FAILED),
        ('FATAL:  database "app" does not exist', DB_MISSING),
        ('could not translate host name "nope" to address', HOST_UNKNOWN),
        ("FATAL:  the database system is starting up", STARTING),
        ("timeout expired", TIMED_OUT),
        ('invalid sslmode value: "bogus"', BAD_OPTION),
        (
            'connection to server at "127.0.0.1", port 5 failed: invalid integer value "x" for '
            'connection option "connect_timeout"',
            BAD_OPTION,
        ),
    ],
)
def test_classify(message: str, reason: str) -> None:
    assert classify(message) == reason


def test_retries_until_healthy() -> None:
    clock = FakeClock()
    attempt = attempts(REFUSED, STARTING, OK)
    report = wait_healthy(EP, 5, clock=clock, sleep=clock.sleep, attempt=attempt)
    assert report == OK
    assert clock.sleeps == [0.1, 0.1]


@pytest.mark.parametrize("reason", [AUTH_FAILED, DB_MISSING, HOST_UNKNOWN])
def test_permanent_failures_do_not_wait(reason: str) -> None:
    clock = FakeClock()
    with pytest.raises(HealthError) as info:
        wait_healthy(EP, 30, clock=clock, sleep=clock.sleep, attempt=attempts(reason))
    assert info.value.reason == reason
    assert clock.sleeps == []


def test_timeout_reports_refused_and_next_step() -> None:
    clock = FakeClock()
    with pytest.raises(HealthError) as info:
        wait_healthy(EP, 2, clock=clock, sleep=clock.sleep, attempt=attempts(REFUSED))
    assert info.value.reason == REFUSED
    assert "no answer within 2s" in info.value.render()
    assert "inv stack.up" in info.value.render()
    assert 1.9 <= clock.now <= 2.0


def test_timeout_while_starting_is_timed_out() -> None:
    clock = FakeClock()
    with pytest.raises(HealthError) as info:
        wait_healthy(EP, 1, clock=clock, sleep=clock.sleep, attempt=attempts(STARTING))
    assert info.value.reason == TIMED_OUT


@pytest.mark.parametrize("query", ["sslmode=bogus", "connect_timeout=abc", "gssencmode=zz"])
def test_an_option_libpq_rejects_is_bad_input_not_a_server_to_start(query: str) -> None:
    # libpq checks option values before it opens a socket: nothing is contacted here.
    endpoint = from_url(f"postgresql://u:s3cret-pw@127.0.0.1:5/app?{query}")
    with pytest.raises(ConfigError) as info:
        probe(endpoint)
    message = str(info.value)
    option, value = query.split("=")
    assert f"option {option} " in message and "stack.up" not in message
    assert "s3cret-pw" not in message and value not in message  # the value is never echoed
