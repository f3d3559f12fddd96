"""The emulator's record of a message, and how it is shown as a Twilio Message resource.

The JSON shape follows Twilio's OpenAPI schema `api.v2010.account.message` (20 properties,
all present, nullable ones as null) and the seeds' sample responses: dates in RFC 2822,
`num_segments`/`num_media`/`price` as strings, relative `uri`s.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from tui.domain.status import MessageStatus

API_VERSION = "2010-04-01"
# Seed sample responses show "USD" at creation and a negative price per segment once sent.
PRICE_UNIT = "USD"
PRICE_PER_SEGMENT = "0.00790"


def new_sid(prefix: str) -> str:
    """Twilio SIDs: two letters and 32 lowercase hex digits (OpenAPI `^(SM|MM)[0-9a-f]{32}$`)."""
    return prefix + secrets.token_hex(16)


def rfc2822(when: datetime | None) -> str | None:
    """ "Mon, 19 Oct 2015 07:07:03 +0000", as the REST API writes dates."""
    return None if when is None else format_datetime(when.replace(microsecond=0))


def account_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


@dataclass(slots=True)
class EmulatedMessage:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    media_urls: tuple[str, ...]
    status: MessageStatus
    segments: int  # what the carrier will bill once a sender is picked
    date_created: datetime
    seq: int  # creation order, the tie-break for "newest first"
    direction: str = "outbound-api"
    status_callback: str | None = None
    validity_period: int = 36000
    send_at: datetime | None = None
    date_updated: datetime | None = None
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    price: str | None = None
    test_credentials: bool = False  # test credentials never get status callbacks
    media_sids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def uri(self) -> str:
        return f"{account_path(self.account_sid)}/Messages/{self.sid}.json"

    @property
    def reported_segments(self) -> int:
        # Message resource docs: with a Messaging Service, num_segments is 0 in the create
        # response, until a sender is chosen (i.e. until the message is queued).
        if self.messaging_service_sid and self.status in (
            MessageStatus.ACCEPTED,
            MessageStatus.SCHEDULED,
        ):
            return 0
        return self.segments

    def to_resource(self) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(len(self.media_urls)),
            "num_segments": str(self.reported_segments),
            "price": self.price,
            "price_unit": PRICE_UNIT,
            "sid": self.sid,
            "status": self.status.value,
            "subresource_uris": {"media": f"{self.uri[: -len('.json')]}/Media.json"},
            "to": self.to,
            "uri": self.uri,
        }

    def media_resources(self) -> list[dict[str, Any]]:
        base = self.uri[: -len(".json")]
        return [
            {
                "account_sid": self.account_sid,
                "content_type": _guess_content_type(url),
                "date_created": rfc2822(self.date_created),
                "date_updated": rfc2822(self.date_created),
                "parent_sid": self.sid,
                "sid": sid,
                "uri": f"{base}/Media/{sid}.json",
            }
            for sid, url in zip(self.media_sids, self.media_urls, strict=True)
        ]


def _guess_content_type(url: str) -> str:
    lowered = url.lower().split("?", 1)[0]
    for ext, kind in ((".png", "image/png"), (".gif", "image/gif"), (".pdf", "application/pdf")):
        if lowered.endswith(ext):
            return kind
    return "image/jpeg"


class ApiError(Exception):
    """An error answer in Twilio's shape: `{code, message, more_info, status}`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            # The REST API's own more_info form (Twilio's "twilios-response" docs).
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
