"""The SendAt input of a compose form: what a person may type for "when", and its preview.

Owns the reading of that text ("in 20m", "tomorrow 9am", "mon 09:00", an ISO-8601 time)
into one exact UTC instant, and the one-line preview that shows the person what the text
resolved to. Whether the instant is acceptable to Twilio (the 15 minutes to 35 days
window) is not decided here: `tui.domain.schedule.check_send_at` decides that, so "in 0m"
and "today 08:00" at noon parse fine and are refused there, with the reason.

Wall-clock forms ("tomorrow 09:00", "9pm", a date and time without an offset) are read in
the person's own zone `tz`. Around daylight-saving changes they resolve as zoneinfo does
with fold=0: a repeated wall time (autumn) is its first occurrence, and a wall time skipped
by the spring change (02:30 in Paris on the last Sunday of March) is read with the offset
in force before the change, so it lands one hour later on the clock (03:30).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final

from tui.domain.schedule import ScheduleError, describe_span, parse_send_at

MAX_INPUT: Final = 64
# "tomorrow" or a weekday without a time: a working-hours default rather than midnight, so
# that a bare day never schedules a text for the middle of the night.
DEFAULT_TIME: Final = time(9, 0)

_EXAMPLES = "for example 'in 20m', 'tomorrow 9am', 'mon 09:00' or 2026-11-24T09:30:00Z"

_UNITS: Final[dict[str, timedelta]] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), timedelta(weeks=1)),
}
_WEEKDAYS: Final[dict[str, int]] = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}

# Only the extended form with dashes: datetime.fromisoformat also takes week dates and
# "20261124", which nobody types into a form and which would make typos parse.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[t ][0-9].*")
_RELATIVE = re.compile(r"(?:in\s+|\+\s*)?((?:[0-9]+\s*[a-z]+(?:\s*,\s*|\s+and\s+|\s*))+)")
_SPAN_PART = re.compile(r"([0-9]+)\s*([a-z]+)")
_CLOCK = re.compile(r"([0-9]{1,2})(?::([0-9]{2})(?::([0-9]{2}))?)?\s*(am|pm)?")


def _fail(message: str) -> ScheduleError:
    return ScheduleError(None, message)


def _utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise _fail("That time is outside the range of dates msgwatch can use.") from None


def _span(text: str) -> timedelta | None:
    """`text` ("1h30m", "2 days") as a duration, None when it is not one."""
    match = _RELATIVE.fullmatch(text)
    if match is None:
        return None
    parts = _SPAN_PART.findall(match.group(1))
    unknown = next((unit for _, unit in parts if unit not in _UNITS), None)
    if unknown is not None:
        if text[0].isdigit():
            return None  # "9pm" is a clock time, not nine "pm"s
        raise _fail(
            f"'{unknown}' is not a unit msgwatch knows; use s, m, h, d or w "
            "(for example 'in 1h30m')."
        )
    total = timedelta(0)
    for amount, unit in parts:
        total += int(amount) * _UNITS[unit]
    return total


def _clock(text: str) -> time | None:
    """`text` ("09:00", "9pm", "9:15 pm") as a time of day; None when it is no clock time."""
    match = _CLOCK.fullmatch(text)
    # A bare number ("9") is refused: it could be an hour, a count or half of a typo.
    if match is None or (match.group(2) is None and match.group(4) is None):
        return None
    hour = int(match.group(1))
    minute = int(match.group(2) or 0)
    second = int(match.group(3) or 0)
    meridiem = match.group(4)
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise _fail(f"'{text}' is not a time of day: with am/pm the hour goes from 1 to 12.")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23:
        raise _fail(f"'{text}' is not a time of day: hours go from 0 to 23 (for example 17:30).")
    if minute > 59 or second > 59:
        raise _fail(f"'{text}' is not a time of day: minutes and seconds go from 00 to 59.")
    return time(hour, minute, second)


def _wall(day: date, clock: time, tz: tzinfo) -> datetime:
    """The instant a clock in `tz` shows `clock` on `day` (fold=0; see the module docstring)."""
    return _utc(datetime.combine(day, clock, tzinfo=tz))


def _iso_date(text: str) -> date | None:
    if _ISO_DATE.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(f"'{text}' is not a date; write it like 2026-11-24.") from None


def _day(word: str, today: date) -> date | None:
    """The date a day word ("today", "tomorrow", "mon", "2026-11-24") names, else None."""
    if word == "today":
        return today
    if word in ("tomorrow", "tmrw", "tmr"):
        return today + timedelta(days=1)
    weekday = _WEEKDAYS.get(word)
    if weekday is not None:
        # The next such day strictly after today: "mon" typed on a Monday is next week.
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    return _iso_date(word)


def _iso(text: str, tz: tzinfo) -> datetime | None:
    """An ISO-8601 date and time, with an offset (exact) or without (local in `tz`)."""
    if _ISO_DATE_TIME.fullmatch(text) is None:
        return None
    upper = text.upper()  # "t" and "z" were lowered with everything else
    try:
        parsed = datetime.fromisoformat(upper)
    except ValueError:
        return None  # maybe "2026-11-24 9am", which the day-and-time reading takes
    if parsed.utcoffset() is not None:
        return parse_send_at(upper)
    return _utc(parsed.replace(tzinfo=tz, fold=0))


def _day_and_time(words: list[str], today: date, now: datetime, tz: tzinfo) -> datetime | None:
    day = _day(words[0], today)
    rest = words[1:] if day is not None else words
    if rest[:1] == ["at"]:
        rest = rest[1:]
    clock_text = " ".join(rest)
    if day is not None and not clock_text:
        if words[0] == "today":
            raise _fail("Add a time to 'today', for example 'today 17:30'.")
        return _wall(day, DEFAULT_TIME, tz)
    clock = _clock(clock_text)
    if clock is None:
        if day is not None:
            raise _fail(f"'{clock_text}' is not a time of day; write it like 09:00, 17:30 or 9am.")
        return None
    if day is not None:
        return _wall(day, clock, tz)
    # A bare time is the next time the clock shows it.
    candidate = _wall(today, clock, tz)
    if candidate > now:
        return candidate
    return _wall(today + timedelta(days=1), clock, tz)


def parse_when(text: str, now: datetime, tz: tzinfo) -> datetime:
    """When to send, as typed by a person, as an aware UTC datetime.

    `now` is the current time (aware, any zone); `tz` is the person's zone, in which
    wall-clock forms are read. Raises ScheduleError (code None) with one sentence saying
    what is accepted. Relative forms ("in 20m") are exact durations from `now`, whatever
    daylight-saving change lies between.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise _fail("The current time has no timezone; msgwatch cannot tell when 'now' is.")
    stripped = text.strip()
    if not stripped:
        raise _fail(f"Enter when to send: {_EXAMPLES}.")
    if len(stripped) > MAX_INPUT:
        raise _fail(f"That is too long for a time ({MAX_INPUT} characters at most); {_EXAMPLES}.")
    lowered = " ".join(stripped.lower().split())
    try:
        found = _iso(lowered, tz)
        if found is None:
            span = _span(lowered)
            if span is not None:
                found = _utc(now) + span
        if found is None:
            today = _utc(now).astimezone(tz).date()
            found = _day_and_time(lowered.split(), today, _utc(now), tz)
    except OverflowError:
        raise _fail("That time is outside the range of dates msgwatch can use.") from None
    if found is None and _ISO_DATE_TIME.fullmatch(lowered):
        raise _fail(
            f"'{stripped}' is not a valid date and time; "
            "write it like 2026-11-24 09:30 (local) or 2026-11-24T09:30:00Z."
        )
    if found is None:
        raise _fail(f"msgwatch does not understand '{stripped}' as a time; {_EXAMPLES}.")
    return found


def _clock_text(moment: datetime) -> str:
    pattern = "%H:%M:%S" if moment.second else "%H:%M"
    return moment.strftime(pattern)


def describe_when(moment: datetime, now: datetime, tz: tzinfo) -> str:
    """`moment` for a preview: "2026-11-24 09:00 UTC · 10:00 CET (local) · in 14 h 12 min".

    The local part repeats the date when it differs from the UTC date, and is left out when
    it would say the same as the UTC part. Spans of an hour or more are shown to the
    minute; shorter ones to the second, since the 15-minute minimum is checked that finely.
    """
    when = _utc(moment).replace(microsecond=0)
    utc_text = f"{when:%Y-%m-%d} {_clock_text(when)} UTC"
    local = when.astimezone(tz)
    local_date = f"{local:%Y-%m-%d} " if local.date() != when.date() else ""
    local_text = f"{local_date}{_clock_text(local)} {local.tzname() or ''}".rstrip()
    parts = [utc_text]
    if local_text != utc_text.removeprefix(f"{when:%Y-%m-%d} "):
        parts.append(f"{local_text} (local)")
    ahead = when - _utc(now)
    distance = abs(ahead)
    if distance >= timedelta(hours=1):
        distance = timedelta(minutes=math.floor(distance.total_seconds() / 60))
    relative = describe_span(distance)
    parts.append(f"in {relative}" if ahead >= timedelta(0) else f"{relative} ago")
    return " \u00b7 ".join(parts)
