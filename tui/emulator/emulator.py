"""The emulator's operations on messages: create, fetch, list, cancel, redact, delete.

The HTTP layer (api.py) only translates requests to these calls; the simulated carrier
(carrier.py) moves created messages along and tells their StatusCallback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from tui.domain.schedule import DEFAULT_WINDOW, ScheduleWindow
from tui.domain.status import MessageStatus

from .accounts import Credentials
from .book import MessageBook
from .create_rules import check_create
from .model import ApiError, EmulatedMessage, new_sid
from .rate_limit import SenderRateLimit

S = MessageStatus
Clock = Callable[[], datetime]

# DELETE refuses messages Twilio is still working on (error 20009, "Cannot delete this
# resource before it is complete"); the HTTP status for it is not documented: 400 here.
_NOT_DELETABLE = frozenset({S.ACCEPTED, S.QUEUED, S.SENDING, S.SENT, S.SCHEDULED, S.RECEIVING})


def utc_now() -> datetime:
    return datetime.now(UTC)


class Lifecycle(Protocol):
    """What the emulator asks of its carrier."""

    def admit(self, message: EmulatedMessage) -> None: ...

    def cancel(self, message: EmulatedMessage) -> None: ...


class Emulator:
    def __init__(
        self,
        credentials: Credentials,
        *,
        clock: Clock = utc_now,
        window: ScheduleWindow = DEFAULT_WINDOW,
        rate_limit_per_sender: float | None = None,
    ) -> None:
        self.credentials = credentials
        self.book = MessageBook()
        self.clock = clock
        self.window = window
        self.lifecycle: Lifecycle | None = None
        # (recipient, sender) pairs where the recipient replied STOP: sends answer 21610.
        self._opted_out: set[tuple[str, str]] = set()
        self._limit = SenderRateLimit(rate_limit_per_sender) if rate_limit_per_sender else None

    def create(
        self, account_sid: str, form: Sequence[tuple[str, str]], *, test_credentials: bool
    ) -> EmulatedMessage:
        now = self.clock()
        request = check_create(form, now, test_credentials=test_credentials, window=self.window)
        sender = request.messaging_service_sid or request.from_ or ""
        if (request.to, sender) in self._opted_out:
            raise ApiError(400, 21610, "Attempt to send to unsubscribed recipient")
        if self._limit is not None and not self._limit.allow(sender):
            raise ApiError(429, 20429, "Too Many Requests")
        if request.send_at is not None:
            status = S.SCHEDULED
        elif request.messaging_service_sid is not None:
            status = S.ACCEPTED
        else:
            status = S.QUEUED
        prefix = "MM" if request.media_urls else "SM"
        message = EmulatedMessage(
            sid=new_sid(prefix),
            account_sid=account_sid,
            to=request.to,
            from_=request.from_,
            messaging_service_sid=request.messaging_service_sid,
            body=request.body,
            media_urls=request.media_urls,
            status=status,
            segments=request.segments,
            date_created=now,
            date_updated=now,
            seq=self.book.next_seq(),
            status_callback=request.status_callback,
            validity_period=request.validity_period,
            send_at=request.send_at,
            test_credentials=test_credentials,
            media_sids=tuple(new_sid("ME") for _ in request.media_urls),
        )
        self.book.add(message)
        # Test credentials create nothing that moves (docs: no callbacks, no delivery).
        if self.lifecycle is not None and not test_credentials:
            self.lifecycle.admit(message)
        return message

    def opt_out(self, recipient: str, sender: str) -> None:
        self._opted_out.add((recipient, sender))

    def fetch(self, account_sid: str, sid: str) -> EmulatedMessage:
        return self.book.get(account_sid, sid)

    def update(
        self, account_sid: str, sid: str, form: Sequence[tuple[str, str]]
    ) -> EmulatedMessage:
        message = self.book.get(account_sid, sid)
        fields = dict(form)
        if "Status" in fields:
            if fields["Status"] != "canceled":
                raise ApiError(400, 20001, "Status can only be updated to 'canceled'.")
            if message.status is not S.SCHEDULED:
                raise ApiError(400, 30409, "This message cannot be canceled.")
            message.status = S.CANCELED
            message.date_updated = self.clock()
            if self.lifecycle is not None:
                self.lifecycle.cancel(message)
        if "Body" in fields:
            if fields["Body"] != "":
                raise ApiError(
                    400, 20001, "Body can only be updated to an empty string (redaction)."
                )
            message.body = ""
            message.date_updated = self.clock()
        return message

    def delete(self, account_sid: str, sid: str) -> None:
        message = self.book.get(account_sid, sid)
        if message.status in _NOT_DELETABLE:
            raise ApiError(400, 20009, "Cannot delete this resource before it is complete")
        self.book.remove(sid)
