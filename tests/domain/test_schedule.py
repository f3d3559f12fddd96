"""Scheduling rules: the SendAt window at its exact edges, request shape, ValidityPeriod."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.schedule import (
    DEFAULT_VALIDITY_PERIOD,
    DEFAULT_WINDOW,
    MAX_VALIDITY_PERIOD,
    MIN_VALIDITY_PERIOD,
    ScheduleError,
    ScheduleWindow,
    check_schedule_request,
    check_send_at,
    check_validity_period,
    describe_span,
    format_send_at,
    parse_send_at,
)

NOW = datetime(2025, 7, 1, 12, 0, 0, tzinfo=UTC)
MG = "MG" + "0123456789abcdef" * 2
SECOND = timedelta(seconds=1)


def test_default_window_is_900_seconds_to_35_days() -> None:
    assert DEFAULT_WINDOW.min_ahead == timedelta(seconds=900)
    assert DEFAULT_WINDOW.max_ahead == timedelta(days=35)


def test_window_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="min_ahead <= max_ahead"):
        ScheduleWindow(min_ahead=timedelta(days=2), max_ahead=timedelta(days=1))
    with pytest.raises(ValueError):
        ScheduleWindow(min_ahead=-SECOND)


def test_exactly_900_seconds_ahead_is_allowed() -> None:
    assert check_send_at(NOW + timedelta(seconds=900), NOW) == NOW + timedelta(seconds=900)


def test_exactly_35_days_ahead_is_allowed() -> None:
    assert check_send_at(NOW + timedelta(days=35), NOW) == NOW + timedelta(days=35)


def test_one_second_too_soon() -> None:
    with pytest.raises(ScheduleError) as caught:
        check_send_at(NOW + timedelta(seconds=899), NOW)
    assert caught.value.code == 35114
    message = str(caught.value)
    assert "14 min 59 s from now" in message
    assert "at least 15 min" in message
    assert "move it 1 s later" in message


def test_one_second_too_far() -> None:
    with pytest.raises(ScheduleError) as caught:
        check_send_at(NOW + timedelta(days=35, seconds=1), NOW)
    assert caught.value.code == 35115
    message = str(caught.value)
    assert "35 days 1 s from now" in message
    assert "at most 35 days" in message
    assert "move it 1 s earlier" in message


def test_in_the_past_is_too_soon() -> None:
    with pytest.raises(ScheduleError) as caught:
        check_send_at(NOW - timedelta(minutes=3), NOW)
    assert caught.value.code == 35114
    assert "3 min in the past" in str(caught.value)


def test_microseconds_are_dropped_before_the_check() -> None:
    # 899.5 s ahead on the wire becomes 899 s: what Twilio would see, so it is refused.
    now = NOW + timedelta(microseconds=500_000)
    with pytest.raises(ScheduleError):
        check_send_at(NOW + timedelta(seconds=900, microseconds=999_999), now)
    result = check_send_at(NOW + timedelta(seconds=1000, microseconds=999_999), NOW)
    assert result.microsecond == 0


def test_result_is_utc_whatever_the_input_zone() -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2025, 7, 1, 15, 0, 0, tzinfo=paris)  # 13:00Z
    result = check_send_at(local, NOW)
    assert result == datetime(2025, 7, 1, 13, 0, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_now_in_another_zone_is_compared_as_the_same_instant() -> None:
    now_local = NOW.astimezone(timezone(timedelta(hours=-7)))
    assert check_send_at(NOW + timedelta(hours=1), now_local) == NOW + timedelta(hours=1)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2025, 7, 1, 13, 0, 0)
    with pytest.raises(ScheduleError, match="no timezone") as caught:
        check_send_at(naive, NOW)
    assert caught.value.code is None
    with pytest.raises(ScheduleError, match="no timezone"):
        check_send_at(NOW + timedelta(hours=1), naive)


def test_custom_window() -> None:
    window = ScheduleWindow(min_ahead=timedelta(minutes=20), max_ahead=timedelta(days=7))
    with pytest.raises(ScheduleError) as caught:
        check_send_at(NOW + timedelta(minutes=16), NOW, window)
    assert caught.value.code == 35114
    with pytest.raises(ScheduleError) as caught:
        check_send_at(NOW + timedelta(days=8), NOW, window)
    assert caught.value.code == 35115
    assert "at most 7 days" in str(caught.value)


def test_not_scheduling_gives_none() -> None:
    assert check_schedule_request(None, None, None, NOW) is None
    assert check_schedule_request("", None, MG, NOW) is None


def test_valid_request_gives_utc_send_at() -> None:
    send_at = NOW + timedelta(hours=2)
    assert check_schedule_request("fixed", send_at, MG, NOW) == send_at


@pytest.mark.parametrize("schedule_type", ["Fixed", "recurring", " fixed", "now"])
def test_schedule_type_other_than_fixed(schedule_type: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        check_schedule_request(schedule_type, NOW + timedelta(hours=2), MG, NOW)
    assert caught.value.code == 35126
    assert "must be 'fixed'" in str(caught.value)


def test_send_at_without_schedule_type() -> None:
    with pytest.raises(ScheduleError) as caught:
        check_schedule_request(None, NOW + timedelta(hours=2), MG, NOW)
    assert caught.value.code == 35126


def test_fixed_without_send_at() -> None:
    with pytest.raises(ScheduleError) as caught:
        check_schedule_request("fixed", None, MG, NOW)
    assert caught.value.code == 35111


@pytest.mark.parametrize("sid", [None, "", "+14155550100", "MG123", "PN" + MG[2:]])
def test_missing_or_bad_messaging_service(sid: str | None) -> None:
    with pytest.raises(ScheduleError) as caught:
        check_schedule_request("fixed", NOW + timedelta(hours=2), sid, NOW)
    assert caught.value.code == 35118
    assert "Messaging Service" in str(caught.value)


def test_request_checks_the_window_last() -> None:
    with pytest.raises(ScheduleError) as caught:
        check_schedule_request("fixed", NOW + timedelta(minutes=5), MG, NOW)
    assert caught.value.code == 35114
    with pytest.raises(ScheduleError) as caught:
        check_schedule_request("fixed", NOW + timedelta(days=40), MG, NOW)
    assert caught.value.code == 35115


def test_validity_constants() -> None:
    assert (MIN_VALIDITY_PERIOD, MAX_VALIDITY_PERIOD, DEFAULT_VALIDITY_PERIOD) == (1, 36000, 36000)


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1), (36000, 36000), ("1", 1), (" 600 ", 600), ("36000", 36000)]
)
def test_validity_period_in_range(value: int | str, expected: int) -> None:
    assert check_validity_period(value) == expected


@pytest.mark.parametrize("value", [0, 36001, -1, "0", "36001", "-5"])
def test_validity_period_out_of_range(value: int | str) -> None:
    with pytest.raises(ScheduleError) as caught:
        check_validity_period(value)
    assert caught.value.code == 21624
    assert "1 to 36000" in str(caught.value)
    assert "out of range" in str(caught.value)


@pytest.mark.parametrize("value", ["abc", "", "1.5", "10h", True, 1.0, "1" * 100])
def test_validity_period_not_an_integer(value: object) -> None:
    with pytest.raises(ScheduleError) as caught:
        check_validity_period(value)  # type: ignore[arg-type]
    assert caught.value.code == 21624
    assert "whole number of seconds" in str(caught.value)
    assert len(str(caught.value)) < 200


def test_format_send_at_converts_to_utc() -> None:
    local = datetime(2025, 7, 1, 15, 30, 45, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert format_send_at(local) == "2025-07-01T13:30:45Z"
    assert format_send_at(NOW) == "2025-07-01T12:00:00Z"


def test_format_send_at_refuses_naive() -> None:
    with pytest.raises(ScheduleError, match="no timezone"):
        format_send_at(datetime(2025, 7, 1, 12, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-01T12:00:00Z", NOW),
        ("2025-07-01T14:00:00+02:00", NOW),
        ("2025-07-01T07:00:00-05:00", NOW),
        (" 2025-07-01T12:00:00.000Z ", NOW),
        ("2025-07-01 12:00:00+00:00", NOW),
    ],
)
def test_parse_send_at(text: str, expected: datetime) -> None:
    parsed = parse_send_at(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", ["2025-07-01T12:00:00", "2025-07-01"])
def test_parse_send_at_refuses_naive(text: str) -> None:
    with pytest.raises(ScheduleError, match="no timezone; add Z"):
        parse_send_at(text)


@pytest.mark.parametrize("text", ["", "tomorrow", "in 20m", "2025-13-01T12:00:00Z", "x" * 500])
def test_parse_send_at_refuses_garbage(text: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_send_at(text)
    assert len(str(caught.value)) < 200


def test_parse_then_format_round_trips() -> None:
    assert format_send_at(parse_send_at("2025-07-01T14:00:00+02:00")) == "2025-07-01T12:00:00Z"


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(0), "0 s"),
        (timedelta(seconds=1), "1 s"),
        (timedelta(seconds=900), "15 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=35, hours=2, minutes=3, seconds=4), "35 days 2 h 3 min 4 s"),
        (timedelta(milliseconds=1), "1 s"),
    ],
)
def test_describe_span(span: timedelta, text: str) -> None:
    assert describe_span(span) == text


@given(st.text(max_size=80))
def test_parse_send_at_only_raises_schedule_error(text: str) -> None:
    try:
        parsed = parse_send_at(text)
    except ScheduleError:
        return
    assert parsed.tzinfo is UTC


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_check_send_at_accepts_exactly_the_window(send_at: datetime, now: datetime) -> None:
    ahead = send_at.replace(microsecond=0) - now
    try:
        result = check_send_at(send_at, now)
    except ScheduleError as error:
        assert error.code in (35114, 35115)
        assert not DEFAULT_WINDOW.min_ahead <= ahead <= DEFAULT_WINDOW.max_ahead
    else:
        assert DEFAULT_WINDOW.min_ahead <= ahead <= DEFAULT_WINDOW.max_ahead
        assert result == send_at.replace(microsecond=0)
