"""The scrolling window over the store: positions, anchoring, live patches, follow mode,
and the change tracker that feeds it (in-process and from another writer)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tui.domain.status import MessageStatus
from tui.services.change_tracker import ChangeTracker
from tui.services.message_window import MessageWindow
from tui.services.rejections import diagnose
from tui.store import MessageFilter, SignatureVerdict, Store, StoredEvent

from ..store.conftest import callback, sid

T0 = 1_700_000_000.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "w.db")
    try:
        yield s
    finally:
        await s.close()


async def fill(store: Store, count: int, start: int = 0, status: str = "sent") -> None:
    for n in range(start, start + count):
        await store.ingest(callback(sid(n), status, at=T0 + n))


async def test_positions_match_a_full_read_in_any_load_order(store: Store) -> None:
    await fill(store, 1050)
    window = MessageWindow(store, block=100, max_blocks=4)
    await window.reset()
    assert window.total == 1050
    expected = [m.sid for m in (await store.page(MessageFilter(), None, 2000)).rows]
    # Jump to the middle (OFFSET), then walk up (newer-than) and down (keyset).
    for index in (5, 4, 6, 10, 3, 0, 9):
        assert await window.load(index)
        for position in range(index * 100, min(1050, index * 100 + 100)):
            row = window.row(position)
            assert row is not None and row.sid == expected[position]
    assert await window.load(11) is False  # past the end


async def test_new_rows_are_counted_above_the_anchor_until_advance(store: Store) -> None:
    await fill(store, 10)
    window = MessageWindow(store)
    await window.reset()
    top = window.row(0)
    await fill(store, 3, start=10)
    patch = await window.apply([11, 12, 13])
    assert patch.newer == 3 and window.row(0) == top  # nothing moved under the reader
    came = await window.advance()
    assert came == 3 and window.total == 13 and window.row(0).sid == sid(12)


async def test_status_changes_patch_loaded_rows_in_place(store: Store) -> None:
    await fill(store, 5)
    window = MessageWindow(store)
    await window.reset()
    changed = await store.ingest(callback(sid(2), "delivered", at=T0 + 100))
    patch = await window.apply([changed.message_id])
    position = window.position_of(changed.message_id)
    assert patch.positions == (position,)
    assert window.row(position).status is MessageStatus.DELIVERED


async def test_recount_follows_rows_leaving_a_status_filter(store: Store) -> None:
    await fill(store, 4)
    window = MessageWindow(store, MessageFilter(statuses=frozenset({MessageStatus.SENT})))
    await window.reset()
    assert window.total == 4
    await store.ingest(callback(sid(1), "delivered", at=T0 + 50))
    await window.recount()
    assert window.total == 3 and window.counts == {MessageStatus.SENT: 3}


async def test_tracker_hears_this_process_and_another_writer(store: Store, tmp_path: Path) -> None:
    tracker = ChangeTracker(store, follow_other_writers=True, poll_every=0.02)
    await tracker.start()
    try:
        mine = await store.ingest(callback(sid(1), "sent", at=T0))
        await asyncio.wait_for(tracker.wakeup.wait(), 5)
        ids, resync = tracker.drain()
        assert mine.message_id in ids and not resync
        other = await Store.open(tmp_path / "w.db")  # a `msgwatch serve` on the same file
        try:
            theirs = await other.ingest(callback(sid(2), "sent", at=T0 + 1))
        finally:
            await other.close()
        seen: set[int] = set()
        while theirs.message_id not in seen:  # the poll may first re-report our own row
            await asyncio.wait_for(tracker.wakeup.wait(), 5)
            seen |= tracker.drain()[0]
    finally:
        await tracker.stop()


def _rejected(signature: SignatureVerdict, url: str) -> StoredEvent:
    from tui.store import EventKind

    return StoredEvent(
        id=1, kind=EventKind.CALLBACK, received_at=T0, message_id=None, message_sid=sid(1),
        local_id=None, status="delivered", status_known=True, error_code=None, applied=False,
        signature=signature, rejected_reason="x", checked_url=url, idempotency_token=None,
        params=(), headers=(),
    )  # fmt: skip


def test_rejections_name_the_likely_cause() -> None:
    local = "http://127.0.0.1:1337/message-status"
    cause, fix = diagnose(_rejected(SignatureVerdict.INVALID, local), None)
    assert "public URL" in cause and "--public-url" in fix
    public = "https://abc.ngrok.app"
    cause, _ = diagnose(_rejected(SignatureVerdict.INVALID, local), public)
    assert "not under the configured public URL" in cause
    cause, _ = diagnose(_rejected(SignatureVerdict.INVALID, public + "/message-status"), public)
    assert "auth token" in cause
    cause, _ = diagnose(_rejected(SignatureVerdict.MISSING, local), None)
    assert "No X-Twilio-Signature" in cause


async def test_counts_taken_while_the_list_re_anchored_still_count(store: Store) -> None:
    await fill(store, 5)
    window = MessageWindow(store)
    await window.reset(count=False)
    assert not window.counted
    old_anchor = window.anchor
    counts, above = await store.count_snapshot(window.filter, old_anchor)
    await fill(store, 2, start=5)
    await window.advance()  # a busy stream moved the anchor during the count
    assert window.apply_counts(old_anchor, counts, above) is False
    assert window.counted and window.counts == {MessageStatus.SENT: 5}
    assert window.total == 7  # kept by advance, not overwritten by the stale count
