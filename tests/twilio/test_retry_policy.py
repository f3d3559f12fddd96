"""The back-off arithmetic and Retry-After reading."""

from datetime import UTC, datetime

import pytest

from tui.twilio import RetryPolicy
from tui.twilio.retry import parse_retry_after


def test_full_jitter_windows_grow_then_cap() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=8.0)
    assert [policy.ceiling(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]
    assert policy.delay(3, 0.5) == 1.0
    assert policy.delay(3, 0.0) == 0.0
    assert policy.delay(3, 7.0) == 2.0  # a draw outside [0, 1] is clamped
    assert RetryPolicy().ceiling(10_000) == 8.0  # no overflow


def test_policy_is_validated() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)


def test_retry_after() -> None:
    now = datetime(2025, 7, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Tue, 01 Jul 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Tue, 01 Jul 2025 11:00:00 GMT", now) == 0.0  # past: now
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after(None) is None
