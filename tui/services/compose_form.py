"""The compose pane's rules without its widgets: what each field says as it is typed, and
how the form becomes a `Draft` for the lifecycle.

Field notes are one short line under a field: the region of a valid To, the kind of a
From, the resolved SendAt in UTC and local time, or what is wrong. `build_draft` raises
`DraftError` naming the field, as the lifecycle's own checks do, so the pane shows every
error next to the field it concerns, before and after Twilio answers (`field_for_code`
maps Twilio's error codes to fields).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui.domain.addresses import (
    AddressError,
    AddressKind,
    is_messaging_service_sid,
    parse_from,
    parse_to,
)
from tui.domain.schedule import (
    MAX_VALIDITY_PERIOD,
    SCHEDULE_TYPE_FIXED,
    ScheduleError,
    check_schedule_request,
)
from tui.domain.when import describe_when, parse_when

from .lifecycle import MAX_MEDIA, Draft, DraftError

# Twilio error codes by the form field they are about, so an API refusal is shown next to
# the field to change (https://www.twilio.com/docs/api/errors).
_FIELDS: dict[str, tuple[int, ...]] = {
    "To": (21211, 21265, 21408, 21604, 21610, 21612, 21614, 21635, 63003, 63016),
    "From": (21212, 21603, 21606, 21659, 21660, 21661, 21701, 21703, 21704),
    "Body": (21602, 21617, 30019),
    "MediaUrl": (11200, 12300, 21620, 21623, 30008),
    "SendAt": (35111, 35114, 35115, 35118, 35126),
    "ValidityPeriod": (21624,),
}
FIELD_OF_CODE: dict[int, str] = {code: field for field, codes in _FIELDS.items() for code in codes}
FIELDS = ("To", "From", "Body", "MediaUrl", "ValidityPeriod", "SendAt")

_SPAN = re.compile(r"(?i)\s*(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?)?\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_MEDIA_SPLIT = re.compile(r"[\s,]+")


def field_for_code(code: int | None) -> str | None:
    """The form field a Twilio error code is about, None when it is about no one field."""
    return FIELD_OF_CODE.get(code) if code is not None else None


@dataclass(frozen=True, slots=True)
class Note:
    """One line under a field: information (`ok`) or what is wrong."""

    text: str
    ok: bool = True


@dataclass(frozen=True, slots=True)
class ComposeForm:
    """The pane's fields as typed."""

    to: str = ""
    from_: str = ""
    body: str = ""
    media: str = ""
    validity: str = ""
    schedule: bool = False
    send_at: str = ""
    smart_encoded: bool = False


def to_note(text: str) -> Note | None:
    """What a To is (country, channel), or why Twilio would refuse it; None when empty."""
    if not text.strip():
        return None
    try:
        address = parse_to(text, named=True)
    except AddressError as exc:
        return Note(exc.message, ok=False)
    if address.kind is AddressKind.SHORT_CODE:
        return Note("short code")
    where = address.region_name or address.region_code or "unknown country"
    channel = f"{address.channel} · " if address.channel else ""
    return Note(f"{channel}{where} · {address.normalized}")


def from_note(text: str, default: str | None) -> Note:
    """What kind of sender a From is; an empty From uses `default` (from the config)."""
    if not text.strip():
        if default:
            return Note(f"default: {default}")
        return Note("a number, sender ID or Messaging Service SID (MG…)", ok=False)
    try:
        address = parse_from(text, named=True)
    except AddressError as exc:
        return Note(exc.message, ok=False)
    kinds = {
        AddressKind.MESSAGING_SERVICE: "Messaging Service: can schedule",
        AddressKind.ALPHANUMERIC: "alphanumeric sender ID: recipients cannot reply",
        AddressKind.SHORT_CODE: "short code",
        AddressKind.CHANNEL: f"{address.channel} sender",
    }
    if address.kind in kinds:
        return Note(kinds[address.kind])
    return Note(f"number · {address.region_name or address.region_code or 'unknown country'}")


def parse_media(text: str) -> tuple[str, ...]:
    """Media URLs separated by spaces, commas or new lines."""
    urls = tuple(url for url in _MEDIA_SPLIT.split(text.strip()) if url)
    if len(urls) > MAX_MEDIA:
        raise DraftError("MediaUrl", f"At most {MAX_MEDIA} media URLs; {len(urls)} given.", 21623)
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise DraftError("MediaUrl", f"{url[:40]!r} is not an http(s) URL Twilio can fetch.")
    return urls


def parse_validity(text: str) -> int | None:
    """ValidityPeriod in seconds from "600", "10m", "2h" or "2 hours"; None when empty."""
    if not text.strip():
        return None
    match = _SPAN.fullmatch(text)
    if match is None:
        raise DraftError(
            "ValidityPeriod",
            f"Give the validity as seconds or a span such as 10m or 2h (at most 10 h), "
            f"not {text.strip()[:20]!r}.",
            21624,
        )
    unit = (match.group(2) or "s")[0].lower()
    seconds = int(match.group(1)) * _UNIT_SECONDS[unit]
    if not 1 <= seconds <= MAX_VALIDITY_PERIOD:
        raise DraftError(
            "ValidityPeriod",
            f"Validity must be from 1 s to 10 h ({MAX_VALIDITY_PERIOD} s); "
            f"{seconds} s is out of range.",
            21624,
        )
    return seconds


def service_of(sender: str, default_service: str | None) -> str | None:
    """The Messaging Service a From names (an MG SID), or the configured one when empty."""
    text = sender.strip()
    if is_messaging_service_sid(text):
        return text
    return default_service if not text else None


def send_at_note(
    form: ComposeForm, now: datetime, tz: tzinfo, default_service: str | None
) -> Note | None:
    """The resolved SendAt (UTC, local, how far ahead) or the scheduling rule it breaks."""
    if not form.schedule:
        return None
    try:
        moment = parse_when(form.send_at, now, tz)
        check_schedule_request(
            SCHEDULE_TYPE_FIXED, moment, service_of(form.from_, default_service), now
        )
    except ScheduleError as exc:
        return Note(exc.message, ok=False)
    return Note(describe_when(moment, now, tz))


def build_draft(
    form: ComposeForm, now: datetime, tz: tzinfo, *, resend_of: int | None = None
) -> Draft:
    """The form as a Draft, or DraftError for the first field that cannot be read. The
    lifecycle checks the rest (addresses, defaults, the schedule window) when it sends."""
    media = parse_media(form.media)
    validity = parse_validity(form.validity)
    send_at = None
    if form.schedule:
        try:
            send_at = parse_when(form.send_at, now, tz)
        except ScheduleError as exc:
            raise DraftError("SendAt", exc.message, exc.code) from None
    sender = form.from_.strip()
    service = sender if is_messaging_service_sid(sender) else None
    return Draft(
        to=form.to.strip(),
        body=form.body or None,
        from_=None if service else (sender or None),
        messaging_service_sid=service,
        media_urls=media,
        send_at=send_at,
        smart_encoded=form.smart_encoded,
        validity_period=validity,
        resend_of=resend_of,
    )


def sender_choices(
    from_number: str | None, service: str | None, extra: Sequence[str] = ()
) -> tuple[str, ...]:
    """The senders the From field offers: configured ones first, no repeats."""
    seen: dict[str, None] = {}
    for choice in (from_number, service, *extra):
        if choice:
            seen.setdefault(choice)
    return tuple(seen)


def local_zone() -> tzinfo:
    """This machine's time zone with its DST rules when they can be found (TZ, then
    /etc/localtime), else today's fixed offset."""
    names = [os.environ.get("TZ", "").lstrip(":")]
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        link = ""
    if "zoneinfo/" in link:
        names.append(link.split("zoneinfo/", 1)[1])
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always sets one
    return zone
