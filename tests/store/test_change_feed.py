"""Watching the store: changes arrive after commit, coalesced, and never hold writers up."""

import asyncio

from tui.domain.status import MessageStatus
from tui.store import LocalMessage, Store

from .conftest import callback, sid

S = MessageStatus


async def test_a_change_is_published_once_committed(store: Store) -> None:
    with store.subscribe() as feed:
        result = await store.ingest(callback(sid(1), "sent"))
        batch = await asyncio.wait_for(feed.next(), 1)
        # By the time a subscriber hears of it, a fresh read sees it: published after commit.
        assert [c.message_id for c in batch.changes] == [result.message_id]
        message = await store.get_message(id=result.message_id)
        assert message is not None and message.status is S.SENT


async def test_changes_are_coalesced_per_message_in_order(store: Store) -> None:
    with store.subscribe() as feed:
        for status in ("queued", "sent", "delivered"):
            await store.ingest(callback(sid(1), status))
        await store.ingest(callback(sid(2), "sent"))
        await store.ingest(callback(sid(1), "read"))
        await store.ingest(callback(sid(1), "sent"))  # stale: not a change, not published
        batch = await asyncio.wait_for(feed.next(), 1)
    assert [(c.message_id, c.status) for c in batch.changes] == [(2, S.SENT), (1, S.READ)]
    assert not batch.resync


async def test_local_sends_are_published(store: Store) -> None:
    with store.subscribe() as feed:
        message_id = await store.record_local(
            LocalMessage("L1", "+14155550100", "+14155550111", None, "hi", 1.0)
        )
        batch = await asyncio.wait_for(feed.next(), 1)
    assert [c.message_id for c in batch.changes] == [message_id]


async def test_a_stalled_subscriber_is_told_to_resync_and_writers_never_wait(
    store: Store,
) -> None:
    slow = store.changes.subscribe(max_pending=10)
    # Nobody drains `slow`; ingestion goes on regardless.
    results = await asyncio.gather(*(store.ingest(callback(sid(n), "sent")) for n in range(50)))
    assert all(not r.duplicate for r in results)
    batch = await asyncio.wait_for(slow.next(), 1)
    assert batch.resync and batch.changes == ()
    await store.ingest(callback(sid(99), "sent"))
    after = await asyncio.wait_for(slow.next(), 1)
    assert not after.resync and len(after.changes) == 1
    slow.close()


async def test_closing_ends_iteration(store: Store) -> None:
    feed = store.subscribe()
    seen = []

    async def watch() -> None:
        async for batch in feed:
            seen.append(batch)

    task = asyncio.create_task(watch())
    await store.ingest(callback(sid(1), "sent"))
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0)
    feed.close()
    await asyncio.wait_for(task, 1)  # the async-for loop ended instead of waiting forever
    assert [c.status for c in seen[0].changes] == [S.SENT]
