"""The data behind the console's message detail view: one message, explained.

Owns turning what the store holds about one message (its row, its events, the rejected
requests that claimed it, its media) into what a person reads: every field as display
text, and a timeline of every observation with what it did to the message. No UI here:
the detail screen renders a `MessageDetail`.

The timeline replays the stored events in arrival (id) order through
`tui.domain.status.merge`, the same rule ingestion used, so it can say for each event
what the message's status was when it arrived: a late `sent` after `delivered` is shown
as out of order rather than as a step backwards. Redeliveries are not stored as events
(ingestion counts them on the event they repeat), so they appear as a count on that
event, not as entries of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import pairwise

from tui.domain.addresses import AddressError, parse_to
from tui.domain.dlr import DlrDateError, parse_raw_dlr_done_date
from tui.domain.errors import ErrorInfo, explain
from tui.domain.masking import short_sid
from tui.domain.status import MessageStatus, is_terminal, merge, parse_status, rank
from tui.store import EventKind, SignatureVerdict, Store, StoredEvent, StoredMessage
from tui.store.records import REJECTING

# Raw statuses come from the network: a hostile or broken sender could put anything in
# them, so notes quote at most this much (the entry's `status` keeps the whole value).
_NOTE_STATUS_CHARS = 32
NONE = "—"  # shown for a field that is not known (yet)

_KIND_LABEL: dict[EventKind, str] = {
    EventKind.CALLBACK: "callback",
    EventKind.INBOUND: "inbound webhook",
    EventKind.CREATE: "create response",
    EventKind.FETCH: "fetch",
}


class Mark(StrEnum):
    """What is notable about a timeline entry. An entry that moved the message's status
    carries none of REJECTED, OUT_OF_ORDER, UNKNOWN_STATUS, NOT_APPLIED."""

    DUPLICATE = "duplicate"  # Twilio delivered it again (counted in `duplicates`)
    OUT_OF_ORDER = "out_of_order"  # arrived after a later status; did not move it back
    REJECTED = "rejected"  # failed the signature check: stored, never applied
    UNKNOWN_STATUS = "unknown_status"  # a status msgwatch does not know: ignored
    NOT_APPLIED = "not_applied"  # anything else that did not move the status
    INITIAL = "initial"  # from the create response: the only record of the first status
    RECONCILED = "reconciled"  # from a fetch (reconciliation, polling, history import)


# The marks of an entry that did not move the message's status.
_IGNORED: frozenset[Mark] = frozenset(
    {Mark.REJECTED, Mark.OUT_OF_ORDER, Mark.UNKNOWN_STATUS, Mark.NOT_APPLIED}
)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One stored observation of the message, in arrival order."""

    event_id: int
    at: float  # when it was received here (unix seconds)
    kind: EventKind
    status: str | None  # raw, as received
    marks: frozenset[Mark]
    duplicates: int  # redeliveries of this same request, not stored again
    error_code: int | None
    # Seconds the message spent in this entry's status before the next status change;
    # None for the current status and for entries that did not move the status.
    in_state: float | None
    since_first: float  # seconds since the first entry
    signature: SignatureVerdict
    checked_url: str | None  # the URL the signature was checked against
    rejected_reason: str | None
    params: tuple[tuple[str, str], ...]  # raw parameters as received
    note: str  # one short line for a person
    last_duplicate_at: float | None = None  # arrival of the latest redelivery

    @property
    def applied(self) -> bool:
        """Did this entry move the message's status?"""
        return not (self.marks & _IGNORED)


@dataclass(frozen=True, slots=True)
class MessageDetail:
    message: StoredMessage
    media: tuple[str, ...]
    timeline: tuple[TimelineEntry, ...]
    error: ErrorInfo | None  # the message's error code, explained from the catalog
    status_callback: str | None  # the StatusCallback URL it was sent with, when known
    resend_of: int | None  # the message this one repeats
    time_to_final: float | None  # seconds from the first entry to the first final status


def _rejected(event: StoredEvent) -> bool:
    return event.rejected_reason is not None or event.signature in REJECTING


def _quoted(raw: str) -> str:
    short = raw if len(raw) <= _NOTE_STATUS_CHARS else raw[: _NOTE_STATUS_CHARS - 1] + "…"
    return f"'{short}'"


def _note(
    event: StoredEvent,
    marks: set[Mark],
    incoming: MessageStatus | None,
    before: MessageStatus | None,
) -> str:
    kind = _KIND_LABEL[event.kind]
    raw = event.status
    what = incoming.value if incoming is not None else (_quoted(raw) if raw else "no status")
    note = f"{what} ({kind})"
    if event.error_code is not None:
        note += f", error {event.error_code}"
    if Mark.REJECTED in marks:
        note += f" — rejected: {event.rejected_reason or f'signature {event.signature.value}'}"
    elif Mark.UNKNOWN_STATUS in marks:
        note += " — status unknown to msgwatch, ignored"
    elif Mark.NOT_APPLIED in marks and incoming is None:
        note += " — changed no status"
    elif Mark.NOT_APPLIED in marks and before is not None and incoming == before:
        note += " — confirms" if event.kind is EventKind.FETCH else " — already"
        note += f" '{before.value}'"
    elif marks & {Mark.OUT_OF_ORDER, Mark.NOT_APPLIED}:
        # Out of order, or the same rank as an outcome already held (the first sticks).
        note += f" — arrived after '{before.value if before else NONE}', ignored"
    if event.duplicates:
        note += f" — duplicate ×{event.duplicates} ignored"  # noqa: RUF001 (meant: times)
    return note


def build_timeline(
    message: StoredMessage, events: Sequence[StoredEvent]
) -> tuple[TimelineEntry, ...]:
    """The timeline of `message` from its stored events (accepted and rejected, in any
    order). Events attached to another message are left out; unattached ones (rejected
    requests that claimed this message) are kept."""
    mine = {e.id: e for e in events if e.message_id in (None, message.id)}
    ordered = [mine[i] for i in sorted(mine)]
    if not ordered:
        return ()
    first_at = ordered[0].received_at
    state: MessageStatus | None = None
    rows: list[tuple[StoredEvent, frozenset[Mark], str]] = []
    for event in ordered:
        marks: set[Mark] = set()
        if event.kind is EventKind.CREATE:
            marks.add(Mark.INITIAL)
        elif event.kind is EventKind.FETCH:
            marks.add(Mark.RECONCILED)
        if event.duplicates:
            marks.add(Mark.DUPLICATE)
        incoming = parse_status(event.status)
        before = state
        if _rejected(event):
            # Never part of the replay: a forged request changed nothing, and must not
            # make a genuine one look out of order.
            marks.add(Mark.REJECTED)
        else:
            state = merge(state, incoming)
            if state == before:
                if event.status is not None and incoming is None:
                    marks.add(Mark.UNKNOWN_STATUS)
                elif incoming is not None and before is not None and rank(incoming) < rank(before):
                    marks.add(Mark.OUT_OF_ORDER)
                else:
                    marks.add(Mark.NOT_APPLIED)
        rows.append((event, frozenset(marks), _note(event, marks, incoming, before)))

    # Time in a status: from the entry that set it to the next entry that changed it.
    changes = [i for i, (_, row_marks, _) in enumerate(rows) if not row_marks & _IGNORED]
    next_change = dict(pairwise(changes))
    entries: list[TimelineEntry] = []
    for i, (event, row_marks, note) in enumerate(rows):
        in_state = None
        if i in next_change:
            in_state = rows[next_change[i]][0].received_at - event.received_at
        entries.append(
            TimelineEntry(
                event_id=event.id,
                at=event.received_at,
                kind=event.kind,
                status=event.status,
                marks=row_marks,
                duplicates=event.duplicates,
                error_code=event.error_code,
                in_state=in_state,
                since_first=event.received_at - first_at,
                signature=event.signature,
                checked_url=event.checked_url,
                rejected_reason=event.rejected_reason,
                params=event.params,
                note=note,
                last_duplicate_at=event.last_duplicate_at,
            )
        )
    return tuple(entries)


def time_to_final(timeline: Sequence[TimelineEntry]) -> float | None:
    """Seconds from the first entry to the entry that gave the message a final status."""
    for entry in timeline:
        if entry.applied and is_terminal(parse_status(entry.status)):
            return entry.since_first
    return None


def observed_status_callback(events: Sequence[StoredEvent]) -> str | None:
    """The URL Twilio posted this message's status callbacks to, proven by a valid
    signature (Twilio signs the exact URL it calls), or None."""
    for event in events:
        valid = event.signature is SignatureVerdict.VALID
        if event.kind is EventKind.CALLBACK and valid and event.checked_url:
            return event.checked_url
    return None


def _iso(ts: float | None) -> str:
    if ts is None:
        return NONE
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(value: object) -> str:
    return NONE if value is None or value == "" else str(value)


def _to_text(to_addr: str | None) -> str:
    if not to_addr:
        return NONE
    try:
        country = parse_to(to_addr, strict=False, named=True).region_name
    except AddressError:  # stored as Twilio gave it; an odd one is still shown
        return to_addr
    return f"{to_addr} ({country})" if country else to_addr


def _body_text(message: StoredMessage) -> str:
    if message.body is None:
        return NONE
    chars = len(message.body)
    text = f"{chars} character{'s' if chars != 1 else ''}"
    if message.num_segments is not None:
        n = message.num_segments
        text += f", {n} segment{'s' if n != 1 else ''}"
    return text


def _error_text(message: StoredMessage) -> str:
    info = explain(message.error_code)
    if info is None:
        return _text(message.error_code)
    return f"{info.code} {info.title}"


def _dlr_text(raw: str | None) -> str:
    try:
        done = parse_raw_dlr_done_date(raw)
    except DlrDateError:
        return f"{raw} (unreadable)"
    return _iso(done.timestamp()) if done else NONE


def fields_of(message: StoredMessage) -> list[tuple[str, str]]:
    """Every field of `message` as (label, display text), most useful first. Unknown
    values show as "—", so the layout does not move as a message fills in. The body text
    itself is left to the view (it needs its own sanitising and wrapping)."""
    price = f"{message.price} {message.price_unit or ''}".rstrip() if message.price else NONE
    return [
        ("SID", _text(message.sid)),
        ("Status", message.status.value if message.status else NONE),
        ("Status since", _iso(message.status_at)),
        ("Direction", _text(message.direction)),
        ("From", _text(message.from_addr)),
        ("To", _to_text(message.to_addr)),
        ("Body", _body_text(message)),
        ("Media", _text(message.num_media)),
        ("Price", price),
        ("Error", _error_text(message)),
        ("Error message", _text(message.error_message)),
        ("Created here", _iso(message.created_at)),
        ("Date created", _iso(message.date_created)),
        ("Date sent", _iso(message.date_sent)),
        ("Date updated", _iso(message.date_updated)),
        ("Carrier receipt", _dlr_text(message.raw_dlr_done_date)),
        ("Scheduled for", _iso(message.send_at)),
        ("First seen", _iso(message.first_seen)),
        ("Last seen", _iso(message.last_seen)),
        ("Account", short_sid(message.account_sid) if message.account_sid else NONE),
        ("Messaging service", _text(message.messaging_service_sid)),
        ("API version", _text(message.api_version)),
        ("Local id", _text(message.local_id)),
        ("Resend of", f"#{message.resend_of}" if message.resend_of is not None else NONE),
        ("Record", f"#{message.id}"),
    ]


async def load_detail(store: Store, message_id: int) -> MessageDetail | None:
    """Everything the detail view shows about message `message_id`, or None if the store
    has no such message (deleted meanwhile)."""
    message = await store.get_message(id=message_id)
    if message is None:
        return None
    events = await store.events_for(message_id)
    rejected = await store.rejected_events_for(message.sid, message.local_id)
    media = tuple(await store.media_for(message_id))
    timeline = build_timeline(message, [*events, *rejected])
    return MessageDetail(
        message=message,
        media=media,
        timeline=timeline,
        error=explain(message.error_code),
        # What the send asked for; for a message sent elsewhere (or before the store
        # kept it), the URL Twilio provably called.
        status_callback=message.status_callback or observed_status_callback(events),
        resend_of=message.resend_of,
        time_to_final=time_to_final(timeline),
    )
