"""Scheduling and validity rules for an outgoing message.

Owns the checks msgwatch makes before asking Twilio to schedule a message (ScheduleType,
SendAt, MessagingServiceSid) or to expire one (ValidityPeriod), and the one way a SendAt
is written on the wire. Each failed check raises a `ScheduleError` carrying the Twilio
error code Twilio would have answered with, so the person sees the problem before sending.

Sources: https://www.twilio.com/docs/messaging/features/message-scheduling and the error
pages https://www.twilio.com/docs/api/errors/35111, .../35114, .../35115, .../35118,
.../35126 and .../21624.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

CODE_SEND_AT_REQUIRED: Final = 35111
CODE_SEND_AT_TOO_SOON: Final = 35114
CODE_SEND_AT_TOO_LATE: Final = 35115
CODE_SERVICE_REQUIRED: Final = 35118
CODE_BAD_SCHEDULE_TYPE: Final = 35126
CODE_BAD_VALIDITY_PERIOD: Final = 21624

# https://www.twilio.com/docs/api/errors/21624: ValidityPeriod is 1..36000 seconds, and a
# message without one may wait in the queue up to 36000 s (10 hours).
MIN_VALIDITY_PERIOD: Final = 1
MAX_VALIDITY_PERIOD: Final = 36000
DEFAULT_VALIDITY_PERIOD: Final = 36000

SCHEDULE_TYPE_FIXED: Final = "fixed"

# Same rule as addresses.is_messaging_service_sid; repeated so that this module does not
# pull in phonenumbers.
_MG_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_INPUT = 64  # longer than any ISO-8601 timestamp or integer we accept


class ScheduleError(ValueError):
    """A schedule or validity setting Twilio would refuse.

    `code` is the Twilio error code Twilio would answer with, or None for a mistake msgwatch
    catches that never reaches Twilio (a time without a timezone, unparseable text).
    """

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ScheduleWindow:
    """How far ahead SendAt may be, both ends inclusive.

    A setting, not a constant: Twilio's 35114 and 35115 pages give 900 seconds to 35 days
    (an older scheduling page said 7 days; that limit is outdated).
    """

    min_ahead: timedelta = timedelta(seconds=900)
    max_ahead: timedelta = timedelta(days=35)

    def __post_init__(self) -> None:
        if self.min_ahead < timedelta(0) or self.max_ahead < self.min_ahead:
            raise ValueError("A schedule window needs 0 <= min_ahead <= max_ahead.")


DEFAULT_WINDOW: Final = ScheduleWindow()


def describe_span(span: timedelta) -> str:
    """A duration for people: "1 day 2 h 5 min", "15 min", "30 s" (whole seconds, rounded up)."""
    total = max(0, math.ceil(span.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day" + ("s" if days != 1 else ""))
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    if seconds or not parts:
        parts.append(f"{seconds} s")
    return " ".join(parts)


def _require_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ScheduleError(
            None, f"{name} has no timezone; give it one (for example UTC) so the time is exact."
        )


def _to_utc(dt: datetime, name: str) -> datetime:
    _require_aware(dt, name)
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise ScheduleError(
            None, f"{name} is outside the range of dates msgwatch can use."
        ) from None


def check_send_at(
    send_at: datetime, now: datetime, window: ScheduleWindow = DEFAULT_WINDOW
) -> datetime:
    """`send_at` in UTC, whole seconds, if it lies within `window` of `now`, else ScheduleError.

    Microseconds are dropped before the check, because `format_send_at` drops them on the
    wire: what is checked is what Twilio receives. Both ends of the window are inclusive.
    """
    when = _to_utc(send_at, "SendAt").replace(microsecond=0)
    ahead = when - _to_utc(now, "The current time")
    low = describe_span(window.min_ahead)
    high = describe_span(window.max_ahead)
    if ahead < window.min_ahead:
        if ahead < timedelta(0):
            raise ScheduleError(
                CODE_SEND_AT_TOO_SOON,
                f"SendAt is {describe_span(-ahead)} in the past; "
                f"pick a time at least {low} from now.",
            )
        raise ScheduleError(
            CODE_SEND_AT_TOO_SOON,
            f"SendAt is only {describe_span(ahead)} from now; Twilio needs at least {low}, "
            f"so move it {describe_span(window.min_ahead - ahead)} later.",
        )
    if ahead > window.max_ahead:
        raise ScheduleError(
            CODE_SEND_AT_TOO_LATE,
            f"SendAt is {describe_span(ahead)} from now; Twilio allows at most {high}, "
            f"so move it {describe_span(ahead - window.max_ahead)} earlier.",
        )
    return when


def check_schedule_request(
    schedule_type: str | None,
    send_at: datetime | None,
    messaging_service_sid: str | None,
    now: datetime,
    window: ScheduleWindow = DEFAULT_WINDOW,
) -> datetime | None:
    """The UTC SendAt of a valid scheduling request, None when the message is not scheduled.

    Checked in the order Twilio's rules build on each other: ScheduleType (35126), SendAt
    present (35111), a Messaging Service (35118), then the window (35114/35115).
    """
    kind = schedule_type or None
    if kind is None and send_at is None:
        return None
    if kind is None:
        raise ScheduleError(
            CODE_BAD_SCHEDULE_TYPE,
            "SendAt needs ScheduleType 'fixed'; set it, or remove SendAt to send now.",
        )
    if kind != SCHEDULE_TYPE_FIXED:
        raise ScheduleError(
            CODE_BAD_SCHEDULE_TYPE,
            f"ScheduleType must be 'fixed', not '{kind[:_MAX_INPUT]}'.",
        )
    if send_at is None:
        raise ScheduleError(
            CODE_SEND_AT_REQUIRED, "Scheduling needs a SendAt time; pick when to send."
        )
    if messaging_service_sid is None or _MG_SID.fullmatch(messaging_service_sid) is None:
        raise ScheduleError(
            CODE_SERVICE_REQUIRED,
            "Scheduled messages must go through a Messaging Service; "
            "set its SID (MG followed by 32 hex digits).",
        )
    return check_send_at(send_at, now, window)


def check_validity_period(seconds: int | str) -> int:
    """ValidityPeriod as an int, if it is a whole number of seconds in 1..36000."""
    value: int | None = None
    if isinstance(seconds, bool):  # bool is an int subclass; True is not 1 second
        value = None
    elif isinstance(seconds, int):
        value = seconds
    elif isinstance(seconds, str):
        text = seconds.strip()
        if len(text) <= _MAX_INPUT and _INTEGER.fullmatch(text):
            value = int(text)
    if value is None:
        shown = str(seconds)[:_MAX_INPUT]
        raise ScheduleError(
            CODE_BAD_VALIDITY_PERIOD,
            f"ValidityPeriod must be a whole number of seconds from {MIN_VALIDITY_PERIOD} to "
            f"{MAX_VALIDITY_PERIOD}, not '{shown}'.",
        )
    if not MIN_VALIDITY_PERIOD <= value <= MAX_VALIDITY_PERIOD:
        raise ScheduleError(
            CODE_BAD_VALIDITY_PERIOD,
            f"ValidityPeriod must be from {MIN_VALIDITY_PERIOD} to {MAX_VALIDITY_PERIOD} "
            f"seconds (10 hours); {value} is out of range.",
        )
    return value


def format_send_at(dt: datetime) -> str:
    """SendAt as Twilio takes it: "YYYY-MM-DDThh:mm:ssZ" in UTC.

    Converts to UTC first: the twilio SDK serializes a datetime with this pattern without
    converting it, so a local time would silently be sent as if it were UTC.
    """
    u = _to_utc(dt, "SendAt")
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def parse_send_at(text: str) -> datetime:
    """An ISO-8601 time with "Z" or an offset ("2025-07-01T09:30:00+02:00") as aware UTC."""
    stripped = text.strip()
    example = "for example 2025-07-01T09:30:00Z"
    if not stripped:
        raise ScheduleError(None, f"Enter a SendAt time ({example}).")
    try:
        if len(stripped) > _MAX_INPUT:
            raise ValueError(stripped)
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        shown = stripped[:_MAX_INPUT]
        raise ScheduleError(
            None, f"'{shown}' is not an ISO-8601 time; write it like 2025-07-01T09:30:00Z."
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ScheduleError(
            None,
            f"'{stripped}' has no timezone; add Z for UTC or an offset such as +02:00 ({example}).",
        )
    return _to_utc(parsed, "SendAt")
