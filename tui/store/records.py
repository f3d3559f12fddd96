"""Typed values that go into and come out of the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from tui.domain.facts import MessageFacts, Pairs
from tui.domain.status import MessageStatus


class EventKind(StrEnum):
    """Where an observation of a message came from."""

    CALLBACK = "callback"  # a status callback Twilio POSTed (or GET) to the receiver
    INBOUND = "inbound"  # an incoming-message webhook
    CREATE = "create"  # the create response: the only record of the initial status
    FETCH = "fetch"  # a REST fetch or list result (reconciliation, polling)


class SignatureVerdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"  # no X-Twilio-Signature header
    UNCHECKED = "unchecked"  # validation turned off (loopback only)
    NOT_APPLICABLE = "n/a"  # not a webhook: our own API call's answer


REJECTING: frozenset[SignatureVerdict] = frozenset(
    {SignatureVerdict.INVALID, SignatureVerdict.MISSING}
)


class IncomingEvent(NamedTuple):
    """One observation to store. `params` are the raw fields exactly as received
    (repeated keys kept, order kept); `facts` is what they say about the message.

    A tuple, like MessageFacts: one is made for every callback (3.9 us as a frozen
    dataclass, ~1 us as a tuple) and pickled for every event the console stores."""

    kind: EventKind
    facts: MessageFacts
    params: Pairs
    received_at: float
    signature: SignatureVerdict = SignatureVerdict.NOT_APPLICABLE
    local_id: str | None = None
    headers: Pairs = ()
    idempotency_token: str | None = None
    rejected_reason: str | None = None
    checked_url: str | None = None

    @property
    def rejected(self) -> bool:
        return self.rejected_reason is not None or self.signature in REJECTING


class IngestResult(NamedTuple):
    # A tuple rather than a dataclass: one is pickled back from the writer process for
    # every event, and a slots dataclass pickles through Python-level __getstate__ and
    # __setstate__ (5.5 us to unpickle here, against 1 us for a tuple).
    event_id: int | None  # None when the event was a duplicate and not stored again
    duplicate: bool
    rejected: bool
    message_id: int | None
    status: MessageStatus | None  # the message's status after this event
    changed: bool  # did this event change the message row?
    status_known: bool


class Prepared(NamedTuple):
    """What a `prepare` function made of its raw input, in the writer process."""

    event: IncomingEvent | None  # None: refused, nothing is stored
    note: Any  # whatever the caller needs back (for its answer and its log line)


class Unprepared(NamedTuple):
    """An observation whose IncomingEvent is made in the writer process, by `prepare(raw)`.

    A webhook costs about as much to parse, verify and read as to store; made here, that
    work would run on the event loop that answers requests (and paints the console), while
    the writer process has a core of its own. `prepare` must be a module-level function
    (it is pickled by reference) and must not write: it runs inside the transaction.
    """

    prepare: Callable[[Any], Prepared]
    raw: Any


class PreparedResult(NamedTuple):
    note: Any  # Prepared.note
    result: IngestResult | None  # None when the event was refused


@dataclass(frozen=True, slots=True)
class LocalMessage:
    """A send begun here, stored before Twilio has answered with a SID."""

    local_id: str
    to_addr: str
    from_addr: str | None
    messaging_service_sid: str | None
    body: str | None
    created_at: float
    media_urls: tuple[str, ...] = ()
    send_at: float | None = None
    num_segments: int | None = None
    resend_of: int | None = None  # the message this one repeats (a resend)
    status_callback: str | None = None  # the StatusCallback URL the create will carry


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    sid: str | None
    local_id: str | None
    account_sid: str | None
    messaging_service_sid: str | None
    direction: str | None
    from_addr: str | None
    to_addr: str | None
    body: str | None
    num_segments: int | None
    num_media: int | None
    status: MessageStatus | None
    status_at: float
    error_code: int | None
    error_message: str | None
    price: str | None
    price_unit: str | None
    api_version: str | None
    date_created: float | None
    date_sent: float | None
    date_updated: float | None
    raw_dlr_done_date: str | None
    send_at: float | None
    created_at: float
    first_seen: float
    last_seen: float
    change_seq: int
    resend_of: int | None = None
    # The StatusCallback URL a send from here asked for; None when sent without one, or
    # not sent from here (inbound, imported history, databases older than schema v4).
    status_callback: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    kind: EventKind
    received_at: float
    message_id: int | None
    message_sid: str | None
    local_id: str | None
    status: str | None
    status_known: bool
    error_code: int | None
    applied: bool
    signature: SignatureVerdict
    rejected_reason: str | None
    checked_url: str | None
    idempotency_token: str | None
    params: Pairs
    headers: Pairs
    # Redeliveries of this event (same idempotency token or same content): acknowledged,
    # not stored again, counted here; with the arrival time of the latest one.
    duplicates: int = 0
    last_duplicate_at: float | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Keyset position: the (created_at, id) of the last row of a page."""

    created_at: float
    id: int


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """What the console asks for. Empty sets and None mean "no constraint"."""

    statuses: frozenset[MessageStatus] = frozenset()
    error_codes: frozenset[int] = frozenset()
    to_addr: str | None = None
    from_addr: str | None = None
    text: str | None = None  # words in the body, prefix-matched
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    direction: str | None = None
    # Status last changed before this time: with in-flight statuses, the "stuck" view.
    status_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    rows: tuple[StoredMessage, ...]
    next_cursor: Cursor | None  # None on the last page
