"""The message lifecycle: every change msgwatch asks of Twilio, kept true in the store.

Send: check the draft with the domain rules (so a mistake costs no request), store a local
row, call create with a StatusCallback that carries the local id (`?lid=`, so callbacks
match even if they overtake the create's answer), then record the answer. Twilio sends no
callback for the initial status (queued / accepted / scheduled): the create answer, stored
as an event, is the only record of it.

A create is never replayed (Messages have no idempotency key). When its outcome is
unknown (a 5xx or a timeout after the request left), the row stays without a SID and
`resolve_unknown` later lists recent messages to that number to find it: bound when found,
marked failed ("not created") when Twilio has had ample time and has no such message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tui.domain.addresses import AddressError, is_messaging_service_sid, parse_from, parse_to
from tui.domain.facts import MessageFacts
from tui.domain.schedule import (
    SCHEDULE_TYPE_FIXED,
    ScheduleError,
    check_schedule_request,
    check_validity_period,
)
from tui.domain.segments import MAX_BODY_CHARS, segment_info
from tui.domain.status import MessageStatus
from tui.store import EventKind, IncomingEvent, LocalMessage, Store, StoredMessage
from tui.twilio import GatewayError, OutcomeUnknownError, RemoteMessage
from tui.twilio.gateway import Gateway

log = logging.getLogger(__name__)

CALLBACK_PATH = "/message-status"

# How far before our create call a found message may claim to have been created (clock
# skew between this machine and Twilio), and how long Twilio gets to show a message in
# its list before a lost create is declared "not created".
CLOCK_SKEW = timedelta(minutes=2)
NOT_CREATED_AFTER = timedelta(minutes=10)

MAX_MEDIA = 10
# How far a lost create is looked for in Twilio's list of messages to its number.
LIST_PAGE_SIZE = 100
LIST_PAGES = 20


def utc_now() -> datetime:
    return datetime.now(UTC)


class DraftError(ValueError):
    """A draft Twilio would refuse, found before any request: which field, which Twilio
    error code it would have been (None when msgwatch's own rule), and one sentence."""

    def __init__(self, field: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Draft:
    to: str
    body: str | None = None
    from_: str | None = None  # falls back to the configured default
    messaging_service_sid: str | None = None  # likewise
    media_urls: tuple[str, ...] = ()
    send_at: datetime | None = None  # scheduled (ScheduleType=fixed) when set
    smart_encoded: bool = False
    resend_of: int | None = None
    validity_period: int | None = None  # seconds; Twilio's default (36000) when None


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: int
    sid: str | None
    status: MessageStatus | None
    error: GatewayError | None = None  # Twilio refused it (row marked failed), or unknown

    @property
    def outcome_unknown(self) -> bool:
        return isinstance(self.error, OutcomeUnknownError)


def check_draft(
    draft: Draft, default_from: str | None, default_service: str | None, now: datetime
) -> Draft:
    """`draft` with defaults filled in and addresses normalized, or DraftError: every rule
    Twilio would refuse it by that can be checked without asking Twilio."""
    try:
        to = parse_to(draft.to).normalized
    except AddressError as exc:
        raise DraftError("To", exc.message, exc.code) from None
    service = draft.messaging_service_sid or None
    sender = draft.from_ or None
    if service is None and sender is None:
        service, sender = default_service, default_from
    if service is not None and not is_messaging_service_sid(service):
        raise DraftError(
            "MessagingServiceSid", "A Messaging Service SID is MG followed by 32 hex digits."
        )
    if sender is not None:
        try:
            sender = parse_from(sender).normalized
        except AddressError as exc:
            raise DraftError("From", exc.message, exc.code) from None
    if service is None and sender is None:
        raise DraftError(
            "From",
            "Say who sends it: a From number or a Messaging Service SID "
            "(or set a default in the configuration).",
            21603,
        )
    body = draft.body or None
    if body is None and not draft.media_urls:
        raise DraftError("Body", "A message needs a body or at least one media URL.", 21602)
    if body is not None and len(body) > MAX_BODY_CHARS:
        raise DraftError(
            "Body",
            f"The body is {len(body)} characters; Twilio accepts at most {MAX_BODY_CHARS}.",
            21617,
        )
    if len(draft.media_urls) > MAX_MEDIA:
        raise DraftError("MediaUrl", f"At most {MAX_MEDIA} media URLs per message.", 21623)
    for url in draft.media_urls:
        if not url.startswith(("http://", "https://")):
            raise DraftError("MediaUrl", f"Media URL {url!r} is not an http(s) URL.")
    send_at = None
    if draft.send_at is not None:
        try:
            send_at = check_schedule_request(SCHEDULE_TYPE_FIXED, draft.send_at, service, now)
        except ScheduleError as exc:
            raise DraftError("SendAt", str(exc), exc.code) from None
    validity = None
    if draft.validity_period is not None:
        try:
            validity = check_validity_period(draft.validity_period)
        except ScheduleError as exc:
            raise DraftError("ValidityPeriod", str(exc), exc.code) from None
    return Draft(
        to=to,
        body=body,
        from_=sender,
        messaging_service_sid=service,
        media_urls=draft.media_urls,
        send_at=send_at,
        smart_encoded=draft.smart_encoded,
        resend_of=draft.resend_of,
        validity_period=validity,
    )


class Lifecycle:
    def __init__(
        self,
        store: Store,
        gateway: Gateway,
        *,
        public_url: str | None = None,
        default_from: str | None = None,
        default_service: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        new_local_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.public_url = public_url.rstrip("/") if public_url else None
        self.default_from = default_from
        self.default_service = default_service
        self.clock = clock
        self.new_local_id = new_local_id

    @property
    def callbacks(self) -> bool:
        """True when Twilio can reach our receiver; otherwise statuses come by polling."""
        return self.public_url is not None

    # -- sending ---------------------------------------------------------------------

    def check(self, draft: Draft) -> Draft:
        """`draft` with defaults filled in and addresses normalized, or DraftError."""
        return check_draft(draft, self.default_from, self.default_service, self.clock())

    def status_callback(self, local_id: str) -> str | None:
        return f"{self.public_url}{CALLBACK_PATH}?lid={local_id}" if self.public_url else None

    async def send(self, draft: Draft) -> SendResult:
        """Send (or schedule) `draft`. Raises DraftError before any request for a draft
        Twilio would refuse; Twilio's own refusals are stored and returned, not raised."""
        ready = self.check(draft)
        local_id = self.new_local_id()
        callback = self.status_callback(local_id)
        segments = (
            segment_info(ready.body, smart_encoded=ready.smart_encoded).segments
            if ready.body
            else None
        )
        message_id = await self.store.record_local(
            LocalMessage(
                local_id=local_id,
                to_addr=ready.to,
                from_addr=ready.from_,
                messaging_service_sid=ready.messaging_service_sid,
                body=ready.body,
                created_at=self.clock().timestamp(),
                media_urls=ready.media_urls,
                send_at=ready.send_at.timestamp() if ready.send_at else None,
                num_segments=segments,
                resend_of=ready.resend_of,
                # Kept with the row: Twilio never echoes it back, and the public URL it
                # is built from may differ next session.
                status_callback=callback,
            )
        )
        try:
            remote = await self.gateway.create(
                to=ready.to,
                from_=ready.from_,
                messaging_service_sid=ready.messaging_service_sid,
                body=ready.body,
                media_urls=ready.media_urls,
                status_callback=callback,
                send_at=ready.send_at,
                smart_encoded=ready.smart_encoded or None,
                validity_period=ready.validity_period,
            )
        except OutcomeUnknownError as exc:
            log.warning("create outcome unknown for local %s: %s", local_id, exc)
            await self._record_attempt(local_id, exc, status=None)
            return SendResult(message_id, None, None, exc)
        except GatewayError as exc:
            await self._record_attempt(local_id, exc, status=MessageStatus.FAILED)
            return SendResult(message_id, None, MessageStatus.FAILED, exc)
        result = await self.record_remote(remote, EventKind.CREATE, local_id=local_id)
        return SendResult(message_id, remote.facts.sid, result)

    async def _record_attempt(
        self, local_id: str, error: GatewayError, status: MessageStatus | None
    ) -> None:
        params = [("error", str(error))]
        if error.code is not None:
            params.append(("code", str(error.code)))
        facts = MessageFacts(
            status_raw=status.value if status else None,
            error_code=error.code,
            error_message=error.message,
        )
        await self.store.ingest(
            IncomingEvent(
                kind=EventKind.CREATE,
                facts=facts,
                params=tuple(params),
                received_at=self.clock().timestamp(),
                local_id=local_id,
            )
        )

    async def record_remote(
        self, remote: RemoteMessage, kind: EventKind, *, local_id: str | None = None
    ) -> MessageStatus | None:
        """Store what Twilio said about a message (create answer, fetch, list) through
        the same merge rule as callbacks; returns the stored status after the merge."""
        result = await self.store.ingest(
            IncomingEvent(
                kind=kind,
                facts=remote.facts,
                params=remote.params,
                received_at=self.clock().timestamp(),
                local_id=local_id,
            )
        )
        return result.status

    async def resend(self, message_id: int) -> SendResult:
        """A new message with the same parameters, linked to the original."""
        original = await self._get(message_id)
        if original.to_addr is None:
            raise DraftError("To", "The original has no recipient to send to again.")
        media = tuple(await self.store.media_for(message_id))
        return await self.send(
            Draft(
                to=original.to_addr,
                body=original.body,
                from_=None if original.messaging_service_sid else original.from_addr,
                messaging_service_sid=original.messaging_service_sid,
                media_urls=media,
                resend_of=original.id,
            )
        )

    # -- changing what was sent ------------------------------------------------------

    async def refresh(self, message_id: int) -> MessageStatus | None:
        """Fetch the message from Twilio now and store what it says."""
        message = await self._get(message_id)
        sid = self._sid_of(message)
        remote = await self.gateway.fetch(sid)
        return await self.record_remote(remote, EventKind.FETCH)

    async def cancel(self, message_id: int) -> MessageStatus | None:
        """Cancel a scheduled (or not yet sent) message; Twilio answers `canceled`."""
        sid = self._sid_of(await self._get(message_id))
        remote = await self.gateway.cancel(sid)
        return await self.record_remote(remote, EventKind.FETCH)

    async def redact(self, message_id: int) -> None:
        """Blank the body at Twilio (when it has the message), then here."""
        message = await self._get(message_id)
        if message.sid:
            remote = await self.gateway.redact(message.sid)
            await self.record_remote(remote, EventKind.FETCH)
        await self.store.redact_local(message_id)

    async def delete(self, message_id: int, *, keep_local: bool) -> None:
        """Delete Twilio's record of the message; keep or forget the local one."""
        message = await self._get(message_id)
        if message.sid:
            await self.gateway.delete(message.sid)
        if not keep_local:
            await self.store.delete_local(message_id)

    # -- lost create answers ---------------------------------------------------------

    async def resolve_unknown(self, message: StoredMessage) -> str:
        """Find the SID of a send whose create answer was lost; returns what happened:
        "bound", "not created" or "still unknown"."""
        if message.to_addr is None or message.local_id is None:
            return "still unknown"
        # Read again: a status callback (it carries ?lid=) may have bound it since the
        # caller read it, and then the SID found below would look like another row's.
        current = await self.store.get_message(id=message.id)
        if current is None:
            return "still unknown"
        if current.sid:
            return "bound"
        started = datetime.fromtimestamp(current.created_at, UTC)
        listed = await self._listed_since(current.to_addr or message.to_addr, started - CLOCK_SKEW)
        if listed is None:
            return "still unknown"  # too many messages to that number to be sure
        for remote in reversed(listed):  # oldest first: the earliest unclaimed match
            facts = remote.facts
            if not facts.sid or facts.date_created is None:
                continue
            if facts.date_created < started - CLOCK_SKEW:
                continue
            if (facts.body or None) != (current.body or None):
                continue
            if current.from_addr and facts.from_addr and facts.from_addr != current.from_addr:
                continue
            owner = await self.store.get_message(sid=facts.sid)
            if owner is not None and owner.id != current.id:
                continue  # already someone else's
            await self.record_remote(remote, EventKind.FETCH, local_id=current.local_id)
            return "bound"
        if self.clock() - started < NOT_CREATED_AFTER:
            return "still unknown"
        latest = await self.store.get_message(id=current.id)
        if latest is None or latest.sid:  # bound (or deleted) while Twilio was asked
            return "bound" if latest is not None else "still unknown"
        await self._record_attempt(
            current.local_id or message.local_id,
            GatewayError(
                "Twilio has no such message: the lost create did not happen.", retryable=True
            ),
            status=MessageStatus.FAILED,
        )
        return "not created"

    async def _listed_since(self, to_addr: str, floor: datetime) -> list[RemoteMessage] | None:
        """Twilio's messages to `to_addr` created since `floor` (newest first), paging until
        the list is older than that; None when more than LIST_PAGES pages would be needed
        (a lost create is then never declared "not created" on a partial look)."""
        listed: list[RemoteMessage] = []
        page_url: str | None = None
        for _ in range(LIST_PAGES):
            page, page_url = await self.gateway.list_page(
                to=to_addr, page_size=LIST_PAGE_SIZE, page_url=page_url
            )
            listed.extend(page)
            oldest = page[-1].facts.date_created if page else None
            if page_url is None or (oldest is not None and oldest < floor):
                return listed
        return None

    # -- helpers ---------------------------------------------------------------------

    async def _get(self, message_id: int) -> StoredMessage:
        message = await self.store.get_message(id=message_id)
        if message is None:
            raise LookupError(f"No message {message_id} in this database.")
        return message

    @staticmethod
    def _sid_of(message: StoredMessage) -> str:
        if not message.sid:
            raise LookupError("Twilio has not given this message a SID (yet).")
        return message.sid
