"""Counts by status kept by the writer (schema v7) always equal a count of the rows."""

import asyncio
import sqlite3
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.domain.status import IN_FLIGHT, PROBLEM, MessageStatus, parse_status
from tui.store import LocalMessage, MessageFilter, Store

from .conftest import callback, schema_at, sid

S = MessageStatus
STATUSES = [s.value for s in MessageStatus]


def counted_rows(path: Path) -> dict[MessageStatus | None, int]:
    """What a count of every row says, by the rule count_by_status had before v7."""
    counts: dict[MessageStatus | None, int] = {}
    with sqlite3.connect(path) as conn:
        for status, n in conn.execute("SELECT status, count(*) FROM messages GROUP BY status"):
            key = parse_status(status)
            counts[key] = counts.get(key, 0) + n
    return counts


def only(
    counts: dict[MessageStatus | None, int], statuses: frozenset[MessageStatus]
) -> dict[MessageStatus | None, int]:
    return {s: n for s, n in counts.items() if s in statuses}


# Operations on a store: a callback (creates the message or moves it on, never back), a
# local send (no status until Twilio answers), forgetting a message, redacting one.
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("callback"), st.integers(0, 5), st.sampled_from(STATUSES)),
        st.tuples(st.just("local"), st.integers(0, 5), st.just("")),
        st.tuples(st.just("delete"), st.integers(0, 8), st.just("")),
        st.tuples(st.just("redact"), st.integers(0, 8), st.just("")),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, data=st.data())
def test_kept_counts_equal_a_count_of_the_rows(tmp_path_factory, ops, data) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("counts") / "m.db"
    statuses = data.draw(st.frozensets(st.sampled_from(list(MessageStatus)), min_size=1))

    async def run() -> None:
        async with await Store.open(path) as store:
            for n, (op, arg, status) in enumerate(ops):
                if op == "callback":
                    await store.ingest(callback(sid(arg), status, at=1_700_000_000.0 + n))
                elif op == "local":
                    sender, recipient = "+14155550100", "+14155550111"
                    local = LocalMessage(f"l{n}", sender, recipient, None, "hi", time.time())
                    await store.record_local(local)
                elif op == "delete":
                    await store.delete_local(arg + 1)  # ids start at 1; a missing one is fine
                else:
                    await store.redact_local(arg + 1)
            expected = counted_rows(path)
            assert await store.count_by_status() == expected
            assert await store.count_by_status(MessageFilter(statuses=statuses)) == only(
                expected, statuses
            )

    asyncio.run(run())


async def test_counts_follow_each_transition(store: Store) -> None:
    await store.ingest(callback(sid(1), "queued"))
    await store.ingest(callback(sid(2), "queued"))
    assert await store.count_by_status() == {S.QUEUED: 2}
    await store.ingest(callback(sid(1), "delivered"))
    await store.ingest(callback(sid(1), "sent"))  # out of order: changes nothing
    await store.ingest(callback(sid(2), "undelivered"))
    assert await store.count_by_status() == {S.DELIVERED: 1, S.UNDELIVERED: 1}
    assert await store.count_by_status(MessageFilter(statuses=PROBLEM)) == {S.UNDELIVERED: 1}
    # A status that no row has any more is left out, as a count of the rows leaves it out.
    assert await store.count_by_status(MessageFilter(statuses=IN_FLIGHT)) == {}


async def test_filters_beyond_status_still_count_the_rows(store: Store) -> None:
    await store.ingest(callback(sid(1), "sent", extra=[("To", "+4477009000")]))
    await store.ingest(callback(sid(2), "sent", extra=[("To", "+14155550100")]))
    flt = MessageFilter(statuses=frozenset({S.SENT}), to_addr="+44")
    assert await store.count_by_status(flt) == {S.SENT: 1}


async def test_v6_database_gains_its_counts(tmp_path: Path) -> None:
    path = tmp_path / "v6.db"
    with sqlite3.connect(path) as conn:
        schema_at(conn, 6)
        for n, status in enumerate(["sent", "sent", "delivered", None, "failed"], start=1):
            conn.execute(
                "INSERT INTO messages (id, sid, local_id, status, status_at, created_at, "
                "first_seen, last_seen) VALUES (?, ?, ?, ?, 5, 5, 5, 5)",
                (n, sid(n) if status else None, None if status else f"l{n}", status),
            )
    conn.close()
    async with await Store.open(path) as store:
        assert await store.count_by_status() == {S.SENT: 2, S.DELIVERED: 1, None: 1, S.FAILED: 1}
        await store.ingest(callback(sid(1), "delivered", at=9))
        assert await store.count_by_status() == {S.SENT: 1, S.DELIVERED: 2, None: 1, S.FAILED: 1}
