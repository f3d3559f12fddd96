"""Message statuses and the one rule that orders them.

Twilio sends a status callback per transition, over plain HTTP, with no event timestamp,
and does not promise they arrive in order (Track Delivery Status guide). So a message's
status is never "the last callback received" but the `merge` of all that were received.
`merge` is the only place that rule lives; the store, the receiver and reconciliation all
call it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class MessageStatus(StrEnum):
    """Values of the Message resource's `status` (OpenAPI `message_enum_status`)."""

    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    RECEIVING = "receiving"
    RECEIVED = "received"
    READ = "read"
    CANCELED = "canceled"
    PARTIALLY_DELIVERED = "partially_delivered"  # deprecated by Twilio; still a valid value


S = MessageStatus

# Outbound precedence. `read` implies delivered and may arrive before `delivered`;
# `failed` and `canceled` happen *instead of* `sent`, so anything after them is stale.
# Inbound statuses live on their own scale (receiving < received); the two scales never
# meet on one message, and if they ever do the higher rank still wins.
RANK: dict[MessageStatus, int] = {
    S.SCHEDULED: 0,
    S.ACCEPTED: 0,
    S.RECEIVING: 0,
    S.QUEUED: 1,
    S.RECEIVED: 1,
    S.SENDING: 2,
    S.SENT: 3,
    S.DELIVERED: 4,
    S.UNDELIVERED: 4,
    S.PARTIALLY_DELIVERED: 4,
    S.READ: 5,
    S.FAILED: 6,
    S.CANCELED: 6,
}

# No further transition is expected for these. `delivered` is final for SMS even though a
# `read` may still follow on WhatsApp/RCS: the merge lets `read` through regardless.
TERMINAL: frozenset[MessageStatus] = frozenset(
    {
        S.DELIVERED,
        S.UNDELIVERED,
        S.PARTIALLY_DELIVERED,
        S.READ,
        S.FAILED,
        S.CANCELED,
        S.RECEIVED,
    }
)

# Waiting for Twilio or the carrier. `scheduled` is deliberately absent: a message due in
# three weeks is waiting by design, not stuck.
IN_FLIGHT: frozenset[MessageStatus] = frozenset(
    {S.ACCEPTED, S.QUEUED, S.SENDING, S.SENT, S.RECEIVING}
)

# The outcomes that mean "did not reach the handset": what triage is about.
PROBLEM: frozenset[MessageStatus] = frozenset({S.FAILED, S.UNDELIVERED, S.PARTIALLY_DELIVERED})

# Twilio's logging guide: a message not delivered/undelivered within 12 hours should be
# fetched by SID, since its callback may have been lost.
DEFAULT_STUCK_AFTER = timedelta(hours=12)

_BY_VALUE: dict[str, MessageStatus] = {s.value: s for s in MessageStatus}


def parse_status(raw: str | None) -> MessageStatus | None:
    """The status named by `raw`, or None for anything Twilio has not documented.

    Unknown strings are not an error: Twilio adds values without notice. Callers keep the
    raw string and flag it; an unknown status never changes a message.
    """
    if raw is None:
        return None
    return _BY_VALUE.get(raw.strip().lower())


def rank(status: MessageStatus) -> int:
    return RANK[status]


def merge(current: MessageStatus | None, incoming: MessageStatus | None) -> MessageStatus | None:
    """The status a message has after `incoming` is learned while it has `current`.

    Higher rank wins; at equal rank the status already held wins, so the first final
    outcome (delivered vs undelivered) sticks and duplicates change nothing. `None`
    (unknown or not yet known) loses to any known status and never replaces one.
    For any one message's real history (at most one of the rank-4 outcomes) the result
    does not depend on the order or duplication of arrivals.
    """
    if incoming is None:
        return current
    if current is None:
        return incoming
    if RANK[incoming] > RANK[current]:
        return incoming
    return current


def merge_all(
    statuses: list[MessageStatus | None], start: MessageStatus | None = None
) -> MessageStatus | None:
    """Fold `merge` over statuses in arrival order."""
    result = start
    for s in statuses:
        result = merge(result, s)
    return result


def advances(current: MessageStatus | None, incoming: MessageStatus | None) -> bool:
    """True when learning `incoming` changes the message's status."""
    return merge(current, incoming) != current


def is_terminal(status: MessageStatus | None) -> bool:
    return status in TERMINAL


def is_in_flight(status: MessageStatus | None) -> bool:
    return status in IN_FLIGHT


def is_stuck(
    status: MessageStatus | None,
    since: datetime,
    now: datetime,
    threshold: timedelta = DEFAULT_STUCK_AFTER,
) -> bool:
    """In flight for longer than `threshold` since `since` (when the status was learned)."""
    return is_in_flight(status) and now - since > threshold
