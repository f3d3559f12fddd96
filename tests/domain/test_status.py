"""The precedence rule: out-of-order and duplicated callbacks never move a message back."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.status import (
    IN_FLIGHT,
    RANK,
    TERMINAL,
    MessageStatus,
    advances,
    is_in_flight,
    is_stuck,
    is_terminal,
    merge,
    merge_all,
    parse_status,
)

S = MessageStatus

# Real histories of one outbound message, in the order Twilio produces them.
HISTORIES = [
    [S.QUEUED, S.SENT, S.DELIVERED],
    [S.QUEUED, S.SENDING, S.SENT, S.UNDELIVERED],
    [S.QUEUED, S.FAILED],
    [S.ACCEPTED, S.QUEUED, S.SENT, S.DELIVERED, S.READ],
    [S.ACCEPTED, S.QUEUED, S.SENT, S.READ],  # read may come without delivered
    [S.SCHEDULED, S.CANCELED],
    [S.SCHEDULED, S.QUEUED, S.SENT, S.DELIVERED],
    [S.ACCEPTED, S.FAILED],
    [S.RECEIVING, S.RECEIVED],
]


def test_every_documented_status_parses_and_has_a_rank() -> None:
    for name in [
        "accepted", "scheduled", "queued", "sending", "sent", "failed", "delivered",
        "undelivered", "receiving", "received", "read", "canceled", "partially_delivered",
    ]:  # fmt: skip
        status = parse_status(name)
        assert status is not None and status.value == name
        assert status in RANK


@pytest.mark.parametrize("raw", ["", "bogus", "DELIVERED ", None, "delivered\x00"])
def test_unknown_or_odd_strings(raw: str | None) -> None:
    # Case and surrounding space are forgiven; anything else is unknown, never an error.
    expected = S.DELIVERED if raw == "DELIVERED " else None
    assert parse_status(raw) is expected


def test_late_sent_never_overwrites_delivered() -> None:
    assert merge(S.DELIVERED, S.SENT) is S.DELIVERED
    assert merge(S.SENT, S.DELIVERED) is S.DELIVERED


def test_read_beats_delivered_in_either_order() -> None:
    assert merge(S.READ, S.DELIVERED) is S.READ
    assert merge(S.DELIVERED, S.READ) is S.READ


@pytest.mark.parametrize("absorbing", [S.FAILED, S.CANCELED])
def test_failed_and_canceled_are_absorbing(absorbing: MessageStatus) -> None:
    for other in MessageStatus:
        if other not in (S.FAILED, S.CANCELED):
            assert merge(absorbing, other) is absorbing


def test_first_final_outcome_wins_at_equal_rank() -> None:
    assert merge(S.DELIVERED, S.UNDELIVERED) is S.DELIVERED
    assert merge(S.UNDELIVERED, S.DELIVERED) is S.UNDELIVERED
    assert merge(S.FAILED, S.CANCELED) is S.FAILED


def test_unknown_never_replaces_and_never_blocks() -> None:
    assert merge(S.SENT, None) is S.SENT
    assert merge(None, S.SENT) is S.SENT
    assert merge(None, None) is None
    assert not advances(S.SENT, None)
    assert advances(None, S.QUEUED)
    assert not advances(S.DELIVERED, S.DELIVERED)


@given(
    history=st.sampled_from(HISTORIES),
    data=st.data(),
)
def test_any_order_and_duplication_ends_at_the_same_status(
    history: list[MessageStatus], data: st.DataObject
) -> None:
    arrivals = data.draw(
        st.lists(st.sampled_from(history), min_size=0, max_size=12).map(
            lambda extra: history + extra
        )
    )
    shuffled = data.draw(st.permutations(arrivals))
    assert merge_all(list(shuffled)) == merge_all(list(history))
    # ...and that status is the furthest one of the history.
    assert merge_all(list(shuffled)) == max(history, key=lambda s: RANK[s])


@given(st.lists(st.sampled_from(list(MessageStatus)), max_size=10), st.data())
def test_merge_never_lowers_the_rank(statuses: list[MessageStatus], data: st.DataObject) -> None:
    current = None
    for status in statuses:
        new = merge(current, status)
        assert new is not None
        if current is not None:
            assert RANK[new] >= RANK[current]
        current = new


def test_terminal_and_in_flight_do_not_overlap() -> None:
    assert not (TERMINAL & IN_FLIGHT)
    assert is_terminal(S.DELIVERED) and not is_in_flight(S.DELIVERED)
    assert is_in_flight(S.SENT) and not is_terminal(S.SENT)
    assert not is_in_flight(S.SCHEDULED)  # waiting by design, never "stuck"
    assert not is_terminal(None) and not is_in_flight(None)


def test_stuck_is_in_flight_past_the_threshold() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    assert is_stuck(S.SENT, now - 13 * hour, now)
    assert not is_stuck(S.SENT, now - 11 * hour, now)
    assert not is_stuck(S.DELIVERED, now - 48 * hour, now)
    assert not is_stuck(S.SCHEDULED, now - 48 * hour, now)
    assert is_stuck(S.QUEUED, now - 2 * hour, now, threshold=hour)
