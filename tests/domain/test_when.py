"""The compose form's "when": relative, day-and-time and ISO forms, DST edges, the preview."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.schedule import ScheduleError
from tui.domain.when import describe_when, parse_when

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 23 November 2026, 19:47:30 in Paris (CET, UTC+1).
NOW = datetime(2026, 11, 23, 18, 47, 30, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T09:30:00Z", utc(2026, 11, 24, 9, 30)),
        ("2026-11-24T09:30+01:00", utc(2026, 11, 24, 8, 30)),
        ("2026-11-24t09:30:00z", utc(2026, 11, 24, 9, 30)),
        ("  2026-11-24T04:30-05:00 ", utc(2026, 11, 24, 9, 30)),
    ],
)
def test_iso_with_an_offset_is_exact(text: str, expected: datetime) -> None:
    got = parse_when(text, NOW, NEW_YORK)
    assert got == expected
    assert got.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T09:30", utc(2026, 11, 24, 8, 30)),
        ("2026-11-24 09:30", utc(2026, 11, 24, 8, 30)),
        ("2026-11-24 09:30:15", utc(2026, 11, 24, 8, 30, 15)),
        ("2026-11-24 9am", utc(2026, 11, 24, 8, 0)),
        ("2026-11-24", utc(2026, 11, 24, 8, 0)),  # a bare day is 09:00, like "tomorrow"
        ("2026-07-01 09:30", utc(2026, 7, 1, 7, 30)),  # summer time: UTC+2
    ],
)
def test_iso_without_an_offset_is_local(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, PARIS) == expected


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("in 20m", timedelta(minutes=20)),
        ("in 20 min", timedelta(minutes=20)),
        ("IN 20 Minutes", timedelta(minutes=20)),
        ("in 2h", timedelta(hours=2)),
        ("in 1h30m", timedelta(hours=1, minutes=30)),
        ("in 1 hour 30 minutes", timedelta(hours=1, minutes=30)),
        ("in 1 hour and 30 minutes", timedelta(hours=1, minutes=30)),
        ("in 3d", timedelta(days=3)),
        ("in 2 days", timedelta(days=2)),
        ("in 2 weeks", timedelta(weeks=2)),
        ("in 45 secs", timedelta(seconds=45)),
        ("in 3 hrs", timedelta(hours=3)),
        ("+20m", timedelta(minutes=20)),
        ("20m", timedelta(minutes=20)),
        ("in 0m", timedelta(0)),
    ],
)
def test_relative_is_now_plus_the_span(text: str, span: timedelta) -> None:
    assert parse_when(text, NOW, PARIS) == NOW + span


def test_relative_is_an_exact_duration_across_a_dst_change() -> None:
    # 28 March 2026, 12:00 in Paris; the clocks go forward at 02:00 the next night.
    now = datetime(2026, 3, 28, 12, 0, tzinfo=PARIS)
    got = parse_when("in 24h", now, NEW_YORK)
    assert got - now == timedelta(hours=24)
    assert got.astimezone(PARIS).hour == 13  # the clock shows one hour more


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today 17:30", utc(2026, 11, 23, 16, 30)),  # in the past: the window check says so
        ("today 21:00", utc(2026, 11, 23, 20, 0)),
        ("tomorrow 09:00", utc(2026, 11, 24, 8, 0)),
        ("tomorrow 9am", utc(2026, 11, 24, 8, 0)),
        ("Tomorrow 9:15pm", utc(2026, 11, 24, 20, 15)),
        ("tomorrow at 9 pm", utc(2026, 11, 24, 20, 0)),
        ("tomorrow 12am", utc(2026, 11, 23, 23, 0)),  # midnight starting the 24th
        ("tomorrow 12pm", utc(2026, 11, 24, 11, 0)),
        ("tomorrow", utc(2026, 11, 24, 8, 0)),
        ("monday 09:00", utc(2026, 11, 30, 8, 0)),  # today is Monday: next week
        ("mon 9am", utc(2026, 11, 30, 8, 0)),
        ("tue 9am", utc(2026, 11, 24, 8, 0)),
        ("sunday 18:00", utc(2026, 11, 29, 17, 0)),
        ("friday", utc(2026, 11, 27, 8, 0)),
        ("21:00", utc(2026, 11, 23, 20, 0)),  # still ahead today
        ("9pm", utc(2026, 11, 23, 20, 0)),
        ("09:00", utc(2026, 11, 24, 8, 0)),  # already past today: tomorrow
        ("at 9am", utc(2026, 11, 24, 8, 0)),
    ],
)
def test_wall_clock_forms_are_local(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, PARIS) == expected


def test_today_is_the_local_date_not_the_utc_one() -> None:
    # 02:00 UTC on the 24th is still the evening of the 23rd in New York.
    now = utc(2026, 11, 24, 2, 0)
    assert parse_when("tomorrow 09:00", now, NEW_YORK) == utc(2026, 11, 24, 14, 0)
    assert parse_when("22:00", now, NEW_YORK) == utc(2026, 11, 24, 3, 0)
    assert parse_when("20:00", now, NEW_YORK) == utc(2026, 11, 25, 1, 0)


def test_a_bare_time_equal_to_now_is_tomorrow() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
    assert parse_when("09:00", now, PARIS) == now + timedelta(days=1)


def test_wall_clock_uses_the_offset_of_that_day() -> None:
    # New York changes to winter time on Sunday 1 November 2026.
    now = datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK)  # EDT, UTC-4
    assert parse_when("tomorrow 09:00", now, NEW_YORK) == utc(2026, 11, 1, 14, 0)  # EST
    assert parse_when("today 18:00", now, NEW_YORK) == utc(2026, 10, 31, 22, 0)  # EDT


def test_a_repeated_wall_time_is_its_first_occurrence() -> None:
    now = datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK)
    # 01:30 happens twice on 1 November; fold=0 is the EDT one.
    assert parse_when("tomorrow 01:30", now, NEW_YORK) == utc(2026, 11, 1, 5, 30)


def test_a_skipped_wall_time_lands_an_hour_later() -> None:
    now = datetime(2026, 3, 28, 12, 0, tzinfo=PARIS)
    # 02:30 does not exist in Paris on 29 March 2026; read with the winter offset.
    got = parse_when("tomorrow 02:30", now, PARIS)
    assert got == utc(2026, 3, 29, 1, 30)
    assert got.astimezone(PARIS).strftime("%H:%M %Z") == "03:30 CEST"


def test_fixed_offset_zone() -> None:
    tz = timezone(timedelta(hours=5, minutes=30))
    # NOW is already 00:17 on the 24th there.
    assert parse_when("tomorrow 09:00", NOW, tz) == utc(2026, 11, 25, 3, 30)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Enter when to send"),
        ("   ", "Enter when to send"),
        ("soon", "does not understand 'soon'"),
        ("next monday", "does not understand"),
        ("9", "does not understand '9'"),
        ("25:00", "hours go from 0 to 23"),
        ("tomorrow 25:00", "hours go from 0 to 23"),
        ("10:60", "minutes and seconds go from 00 to 59"),
        ("13pm", "with am/pm the hour goes from 1 to 12"),
        ("tomorrow noonish", "'noonish' is not a time of day"),
        ("today", "Add a time to 'today'"),
        ("in 20 parsecs", "'parsecs' is not a unit"),
        ("2026-13-01 09:00", "'2026-13-01' is not a date"),
        ("2026-11-24T25:00", "not a valid date and time"),
        ("x" * 65, "too long"),
        ("in 99999999999w", "outside the range"),
    ],
)
def test_errors_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_when(text, NOW, PARIS)
    assert caught.value.code is None
    assert fragment in caught.value.message
    assert caught.value.message.endswith(".")


def test_errors_about_the_whole_text_give_an_example() -> None:
    for text in ("", "soon"):
        with pytest.raises(ScheduleError, match="for example 'in 20m'"):
            parse_when(text, NOW, PARIS)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ScheduleError, match="no timezone"):
        parse_when("in 20m", datetime(2026, 11, 23, 12, 0), PARIS)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 12, 31),
        timezones=st.timezones(),
    ).map(lambda d: d.replace(second=0, microsecond=0))
)
def test_isoformat_round_trips_to_the_same_instant(d: datetime) -> None:
    got = parse_when(d.isoformat(), NOW, PARIS)
    # Through astimezone: Python never calls a time in a DST gap or overlap equal to a
    # time in another zone (PEP 495), though isoformat wrote its offset all the same.
    assert got == d.astimezone(UTC)
    assert got.tzinfo is UTC


@given(st.integers(min_value=0, max_value=100_000))
def test_in_n_minutes_is_exact(n: int) -> None:
    assert parse_when(f"in {n}m", NOW, NEW_YORK) == NOW + timedelta(minutes=n)


def test_describe_when_shows_utc_local_and_span() -> None:
    now = utc(2026, 11, 23, 18, 48)
    moment = parse_when("tomorrow 10:00", now, PARIS)
    assert describe_when(moment, now, PARIS) == (
        "2026-11-24 09:00 UTC \u00b7 10:00 CET (local) \u00b7 in 14 h 12 min"
    )


def test_describe_when_short_spans_to_the_second_and_seconds_in_times() -> None:
    moment = NOW + timedelta(minutes=14, seconds=59)
    assert describe_when(moment, NOW, PARIS) == (
        "2026-11-23 19:02:29 UTC \u00b7 20:02:29 CET (local) \u00b7 in 14 min 59 s"
    )


def test_describe_when_dates_the_local_time_when_the_day_differs() -> None:
    moment = utc(2026, 11, 24, 2, 0)
    text = describe_when(moment, NOW, NEW_YORK)
    assert text.startswith("2026-11-24 02:00 UTC \u00b7 2026-11-23 21:00 EST (local)")


def test_describe_when_in_the_past_and_in_utc() -> None:
    moment = NOW - timedelta(hours=2)
    assert describe_when(moment, NOW, UTC) == "2026-11-23 16:47:30 UTC \u00b7 2 h ago"
