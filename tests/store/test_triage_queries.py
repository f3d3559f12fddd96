"""The triage aggregates: what they count, over which window, and that an index serves them."""

from datetime import UTC, datetime, timedelta

from tui.domain.facts import facts_from_callback
from tui.store import EventKind, IncomingEvent, SignatureVerdict, Store
from tui.store.triage_queries import FailureGroupRow

from .conftest import sid
from .test_query_plans import assert_no_full_scan, plans_of

NOW = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
T = NOW.timestamp()
UK, US = "+447700900123", "+14155550100"
SENDER = "+14155550111"


def outcome(
    n: int,
    status: str,
    *,
    at: float,
    code: int | None = None,
    to: str = US,
    frm: str = SENDER,
) -> IncomingEvent:
    params = [("MessageSid", sid(n)), ("MessageStatus", status), ("To", to), ("From", frm)]
    if code is not None:
        params.append(("ErrorCode", str(code)))
    return IncomingEvent(
        kind=EventKind.CALLBACK,
        facts=facts_from_callback(params),
        params=tuple(params),
        received_at=at,
        signature=SignatureVerdict.VALID,
    )


async def test_failure_groups_count_per_code_sender_and_recipient(store: Store) -> None:
    events = [
        outcome(1, "undelivered", at=T - 60, code=30007, to=UK),
        outcome(2, "failed", at=T - 50, code=30007, to=UK),
        outcome(3, "undelivered", at=T - 40, code=30007, to=US),
        outcome(4, "undelivered", at=T - 30, to=US),  # no error code
        outcome(5, "partially_delivered", at=T - 20, code=30003, to=US),
        outcome(6, "delivered", at=T - 10, to=UK),  # not a problem
        outcome(7, "sent", at=T - 10, to=UK),  # still in flight
    ]
    for event in events:
        await store.ingest(event)
    rows = await store.failure_groups(None)
    assert sorted(rows, key=lambda r: (r.error_code or 0, r.to_addr or "")) == [
        FailureGroupRow(None, SENDER, US, 1),
        FailureGroupRow(30003, SENDER, US, 1),
        FailureGroupRow(30007, SENDER, US, 1),
        FailureGroupRow(30007, SENDER, UK, 2),
    ]


async def test_window_is_on_when_the_outcome_was_learned(store: Store) -> None:
    # Sent three hours ago, undelivered ten minutes ago: a failure of the last hour.
    await store.ingest(outcome(1, "sent", at=T - 3 * 3600))
    await store.ingest(outcome(1, "undelivered", at=T - 600, code=30003))
    await store.ingest(outcome(2, "failed", at=T - 2 * 3600, code=30003))  # too old
    await store.ingest(outcome(3, "delivered", at=T - 300))
    await store.ingest(outcome(4, "delivered", at=T - 7200))
    since = NOW - timedelta(hours=1)
    assert [r.count for r in await store.failure_groups(since)] == [1]
    assert sum(r.count for r in await store.failure_groups(None)) == 2
    assert await store.outcome_totals(since) == (2, 1)
    assert await store.outcome_totals(None) == (4, 2)


async def test_outcome_totals_count_only_delivery_outcomes(store: Store) -> None:
    statuses = ["delivered", "read", "undelivered", "failed", "partially_delivered"]
    for n, status in enumerate(statuses):
        await store.ingest(outcome(n, status, at=T - 60))
    # Not outcomes of a delivery: inbound, canceled before sending, still in flight.
    for n, status in enumerate(["received", "canceled", "sent", "queued"], start=10):
        await store.ingest(outcome(n, status, at=T - 60))
    assert await store.outcome_totals(None) == (5, 3)


async def test_failure_trend_buckets_from_since(store: Store) -> None:
    since = NOW - timedelta(hours=1)
    s = since.timestamp()
    events = [
        outcome(1, "undelivered", at=s, code=30007),  # first instant: bucket 0
        outcome(2, "undelivered", at=s + 299.9, code=30007),  # still bucket 0
        outcome(3, "undelivered", at=s + 300, code=30007),  # boundary: bucket 1
        outcome(4, "failed", at=s + 3599, code=30007),  # bucket 11
        outcome(5, "failed", at=s + 3599),  # no code, bucket 11
        outcome(6, "failed", at=s - 1, code=30007),  # before the window
        outcome(7, "delivered", at=s + 10),  # not a problem
    ]
    for event in events:
        await store.ingest(event)
    trend = await store.failure_trend(since, 300)
    assert sorted(trend, key=lambda t: (t[0] or 0, t[1])) == [
        (None, 11, 1),
        (30007, 0, 2),
        (30007, 1, 1),
        (30007, 11, 1),
    ]


async def test_triage_reads_use_the_status_age_index(store: Store) -> None:
    for n in range(30):
        await store.ingest(outcome(n, "undelivered", at=T - n, code=30003))
    since = NOW - timedelta(hours=1)
    calls = [
        lambda: store.failure_groups(since),
        lambda: store.failure_groups(None),
        lambda: store.failure_trend(since, 300),
        lambda: store.outcome_totals(since),
        lambda: store.outcome_totals(None),
    ]
    plans = await plans_of(store, calls)
    assert len(plans) == len(calls)
    assert_no_full_scan(plans, index_walks=False)
    for sql, plan in plans:
        assert any("USING" in step and "INDEX messages_status_age" in step for step in plan), (
            sql,
            plan,
        )
    # The outcome counts never touch the table: the index holds status and status_at.
    for sql, plan in plans[3:]:
        assert any("COVERING INDEX messages_status_age" in step for step in plan), (sql, plan)
