"""Every read the console makes is served by an index, never a full scan of a big table.

The SQL each Store read actually ran is captured (with its values) and SQLite's own plan
for it is checked, so a change to a query or an index that loses the index fails here,
long before a million-row database shows it.
"""

from datetime import UTC, datetime, timedelta

from tui.domain.status import IN_FLIGHT, MessageStatus
from tui.store import LocalMessage, MessageFilter, Store
from tui.store.writer_process import start_trace, stop_trace

from .conftest import callback, sid

S = MessageStatus
BIG_TABLES = ("messages", "events", "message_changes")


async def plans_of(store: Store, calls, *, writer: bool = False) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    """Run `calls`, capturing the SQL they send on the reader (or writer) connection, and
    return SQLite's plan for each SELECT/UPDATE among them."""
    statements: list[str] = []
    if writer:  # the writer's sqlite3 connection lives in its own process
        await store._process.call(start_trace)
    else:
        await store._reader.set_trace_callback(statements.append)
    for call in calls:
        await call()
    if writer:
        statements = await store._process.call(stop_trace)
    else:
        await store._reader.set_trace_callback(None)
    plans = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
            continue
        async with store._reader.execute(f"EXPLAIN QUERY PLAN {sql}") as cursor:
            plans.append((sql, [str(row[3]) async for row in cursor]))
    return plans


def assert_no_full_scan(plans: list[tuple[str, list[str]]], *, index_walks: bool) -> None:
    """No full table scan. With `index_walks`, a walk along an index is allowed (keyset
    pages stop after a page; grouped counts read a covering index); without it, every
    step must be a SEARCH, as a write touching a handful of rows should be."""
    for sql, plan in plans:
        for step in plan:
            for table in BIG_TABLES:
                bad = step == f"SCAN {table}" if index_walks else step.startswith(f"SCAN {table}")
                assert not bad, f"scan of {table}:\n{sql}\n{plan}"


async def test_console_reads_use_indexes(store: Store) -> None:
    for n in range(30):
        await store.ingest(callback(sid(n), "undelivered", extra=[("ErrorCode", "30003")]))
    page = await store.page(limit=10)
    assert page.next_cursor is not None
    now = datetime.now(UTC)
    calls = [
        lambda: store.page(limit=200),
        lambda: store.page(after=page.next_cursor, limit=200),
        lambda: store.page(MessageFilter(statuses=frozenset({S.UNDELIVERED}))),
        lambda: store.page(MessageFilter(statuses=frozenset({S.FAILED, S.UNDELIVERED}))),
        lambda: store.page(MessageFilter(error_codes=frozenset({30003}))),
        lambda: store.page(MessageFilter(to_addr="+1415")),
        lambda: store.page(MessageFilter(from_addr="+1415")),
        lambda: store.page(MessageFilter(text="hello")),
        lambda: store.page(MessageFilter(since=now - timedelta(hours=1))),
        lambda: store.count_by_status(),
        lambda: store.count_by_error(),
        lambda: store.count_by_error(MessageFilter(since=now - timedelta(days=1))),
        lambda: store.in_flight_older_than(now),
        lambda: store.changed_since(5),
        lambda: store.get_message(sid=sid(3)),
        lambda: store.get_message(local_id="x"),
        lambda: store.events_for(1),
        lambda: store.rejected_events(),
        lambda: store.rejected_events_for(sid(3), "L3"),
        lambda: store.rejected_events_for(sid(3), None),
        lambda: store.media_for(1),
    ]
    plans = await plans_of(store, calls)
    assert len(plans) >= len(calls)
    assert_no_full_scan(plans, index_walks=True)


async def test_stuck_view_uses_a_status_index(store: Store) -> None:
    """The console's `stuck` filter (in-flight statuses whose status is older than a cutoff)
    reads through a status index, for its page and its counts, never a full scan."""
    now = datetime.now(UTC)
    old = (now - timedelta(hours=13)).timestamp()
    for n in range(30):
        status = ("queued", "sent", "delivered")[n % 3]
        await store.ingest(callback(sid(n), status, at=old if n % 2 else now.timestamp()))
    cutoff = now - timedelta(hours=12)
    stuck = MessageFilter(statuses=IN_FLIGHT, status_before=cutoff)
    calls = [
        lambda: store.page(stuck),
        lambda: store.page(MessageFilter(statuses=frozenset({S.SENT}), status_before=cutoff)),
        lambda: store.count_by_status(stuck),
        lambda: store.count_by_error(stuck),
    ]
    plans = await plans_of(store, calls)
    assert len(plans) >= len(calls)
    assert_no_full_scan(plans, index_walks=True)
    for sql, plan in plans:
        used = " ".join(plan)
        assert "messages_status_age" in used or "messages_by_status" in used, (sql, plan)


async def test_writes_use_indexes(store: Store) -> None:
    """Every shape of write: with and without idempotency token, SID, local id; new
    message, existing message, local send. (An empty `IN ()` arm once made the lookup a
    full scan: 17 ms per callback at 200k messages.)"""
    for n in range(30):
        await store.ingest(callback(sid(n), "sent", token=f"t{n}"))
    local = LocalMessage("L1", "+14155550100", None, "MG" + "0" * 32, "hi", 1.0)
    calls = [
        lambda: store.ingest(callback(sid(1), "delivered")),  # no token
        lambda: store.ingest(callback(sid(2), "delivered", token="x")),  # token, existing
        lambda: store.ingest(callback(sid(99), "queued")),  # new message
        lambda: store.record_local(local),
        lambda: store.ingest(callback(None, "sent", local_id="L1")),  # local id only
        lambda: store.ingest(callback(sid(50), "sent", local_id="L1")),  # both
        lambda: store.ingest(callback(sid(3), "sent", token="t3")),  # duplicate by token
        lambda: store.ingest(callback(sid(1), "delivered")),  # duplicate by content
        lambda: store.ingest(callback(None, "sent", token="u")),  # attached to nothing
        lambda: store.ingest(callback(None, "sent", token="u")),  # ... and its copy
    ]
    plans = await plans_of(store, calls, writer=True)
    assert len(plans) >= 2 * len(calls)
    assert_no_full_scan(plans, index_walks=False)
