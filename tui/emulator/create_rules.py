"""What the emulator accepts on `POST .../Messages.json`, refused the way Twilio refuses it.

Each rule answers with Twilio's error code and HTTP 400 (the API's "Invalid Parameters"
answer). Rules come from the Message resource seed and the error pages; where a code is
not documented for this exact case, the comment says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from tui.domain.addresses import AddressError, is_messaging_service_sid, parse_from, parse_to
from tui.domain.schedule import (
    DEFAULT_WINDOW,
    ScheduleError,
    ScheduleWindow,
    check_schedule_request,
    check_validity_period,
    parse_send_at,
)
from tui.domain.segments import MAX_BODY_CHARS, segment_info

from .model import ApiError

MAX_MEDIA = 10  # Message resource: "MediaUrl ... up to 10"

# Twilio's test credentials (docs /iam/test-credentials): magic numbers with fixed results.
TEST_FROM_OK = "+15005550006"
TEST_FROM_ERRORS = {"+15005550001": 21212, "+15005550007": 21606, "+15005550008": 21611}
TEST_TO_ERRORS = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}
_TEST_MESSAGES = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21212: "The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric "
    "sender ID.",
    21606: "The 'From' phone number provided ({from_}) is not a valid message-capable Twilio "
    "phone number for this destination.",
    21611: "This 'From' number has exceeded the maximum number of queued messages.",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone "
    "number: {from_} via SMS.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number: {to}.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


@dataclass(frozen=True, slots=True)
class CreateRequest:
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    media_urls: tuple[str, ...]
    status_callback: str | None
    validity_period: int
    send_at: datetime | None
    segments: int


def _bad(code: int, message: str, status: int = 400) -> ApiError:
    return ApiError(status, code, message)


def check_callback_url(url: str, name: str = "StatusCallback") -> str:
    """An http(s) URL with a host Twilio can call. Twilio rejects underscores in the host
    (Track Delivery Status guide). 21609 is Twilio's "Invalid StatusCallback" code."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise _bad(21609, f"The {name} URL {url} is not a valid URL.")
    if "_" in host:
        raise _bad(21609, f"The {name} URL {url} has an underscore in its host name.")
    return url


def _first(form: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in form:
        if key == name:
            return value
    return None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def check_create(
    form: Sequence[tuple[str, str]],
    now: datetime,
    *,
    test_credentials: bool = False,
    window: ScheduleWindow = DEFAULT_WINDOW,
) -> CreateRequest:
    raw_to = (_first(form, "To") or "").strip()
    raw_from = (_first(form, "From") or "").strip() or None
    raw_service = (_first(form, "MessagingServiceSid") or "").strip() or None
    body = _first(form, "Body") or ""
    media = tuple(v for k, v in form if k == "MediaUrl" and v)
    content_sid = _first(form, "ContentSid")

    if not raw_to:
        raise _bad(21604, "A 'To' phone number is required.")
    try:
        to = parse_to(raw_to, strict=False).normalized
    except AddressError as exc:
        raise _bad(21211, f"The 'To' number {raw_to} is not a valid phone number.") from exc

    service = raw_service
    from_ = None
    if raw_from is not None:
        if is_messaging_service_sid(raw_from):
            service = service or raw_from  # Twilio accepts the MG SID in From
        else:
            try:
                from_ = parse_from(raw_from, strict=False).normalized
            except AddressError as exc:
                raise _bad(21212, _TEST_MESSAGES[21212].format(from_=raw_from)) from exc
    if service is not None and not is_messaging_service_sid(service):
        # The MessagingServiceSid must be an MG SID; Twilio answers 21701 for an unknown one.
        raise _bad(21701, f"The Messaging Service Sid {service} is invalid.")
    if from_ is None and service is None:
        raise _bad(21603, "A 'From' phone number is required.")

    if test_credentials:
        if service is not None:
            raise _bad(21606, "Test credentials do not support Messaging Services.")
        if from_ in TEST_FROM_ERRORS:
            code = TEST_FROM_ERRORS[from_]
            raise _bad(code, _TEST_MESSAGES[code].format(to=to, from_=from_))
        if to in TEST_TO_ERRORS:
            code = TEST_TO_ERRORS[to]
            raise _bad(code, _TEST_MESSAGES[code].format(to=to, from_=from_))
        if from_ != TEST_FROM_OK:
            raise _bad(21606, _TEST_MESSAGES[21606].format(from_=from_))

    if not body and not media and not content_sid:
        raise _bad(21602, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        raise _bad(21617, "The concatenated message body exceeds the 1600 character limit.")
    if len(media) > MAX_MEDIA:
        raise _bad(21623, f"Too many media files: {len(media)} given, at most {MAX_MEDIA}.")
    for url in media:
        if urlsplit(url).scheme not in ("http", "https"):
            raise _bad(21620, f"Invalid media URL: {url}")

    callback = _first(form, "StatusCallback")
    if callback:
        check_callback_url(callback)

    raw_validity = _first(form, "ValidityPeriod")
    try:
        validity = 36000 if raw_validity in (None, "") else check_validity_period(raw_validity)
        raw_send_at = _first(form, "SendAt")
        send_at_value = parse_send_at(raw_send_at) if raw_send_at else None
        send_at = check_schedule_request(
            _first(form, "ScheduleType"), send_at_value, service, now, window
        )
    except ScheduleError as exc:
        raise _bad(exc.code or 35114, exc.message) from exc

    info = segment_info(body, smart_encoded=_truthy(_first(form, "SmartEncoded")))
    return CreateRequest(
        to=to,
        from_=from_,
        messaging_service_sid=service,
        body=body,
        media_urls=media,
        status_callback=callback or None,
        validity_period=validity,
        send_at=send_at,
        segments=info.segments if body else 1,
    )
