"""Edits the user asks for: redact the local copy, forget a message, remember progress."""

import time

from tui.store import LocalMessage, MessageFilter, Store

from .conftest import callback, sid


async def test_redact_local_blanks_row_events_and_search(store: Store) -> None:
    await store.ingest(callback(sid(1), "received", extra=[("Body", "my secret code 4711")]))
    message = await store.get_message(sid=sid(1))
    assert message is not None and message.body == "my secret code 4711"
    assert [m.id for m in (await store.page(MessageFilter(text="4711"))).rows] == [message.id]
    feed = store.subscribe()

    await store.redact_local(message.id)

    after = await store.get_message(id=message.id)
    assert after is not None and after.body == ""
    assert after.change_seq > message.change_seq  # followers see it change
    for event in await store.events_for(message.id):
        assert "4711" not in repr(event.params)
    assert (await store.page(MessageFilter(text="4711"))).rows == ()
    changes = await feed.next()
    assert message.id in {c.message_id for c in changes.changes}


async def test_delete_local_forgets_row_events_and_media(store: Store) -> None:
    await store.ingest(
        callback(sid(2), "received", extra=[("NumMedia", "1"), ("MediaUrl0", "https://m/0")])
    )
    message = await store.get_message(sid=sid(2))
    assert message is not None and await store.media_for(message.id) == ["https://m/0"]
    await store.delete_local(message.id)
    assert await store.get_message(id=message.id) is None
    assert await store.events_for(message.id) == []
    assert await store.media_for(message.id) == []
    await store.delete_local(message.id)  # already gone: nothing happens


async def test_sync_state_is_kept_replaced_and_removed(store: Store) -> None:
    assert await store.get_sync_state("import") is None
    await store.set_sync_state("import", "/page/1")
    await store.set_sync_state("import", "/page/2")
    assert await store.get_sync_state("import") == "/page/2"
    await store.set_sync_state("import", None)
    assert await store.get_sync_state("import") is None


async def test_a_resend_points_at_its_original(store: Store) -> None:
    now = time.time()
    first = await store.record_local(
        LocalMessage("l1", "+14155550100", "+14155550111", None, "hi", now)
    )
    second = await store.record_local(
        LocalMessage("l2", "+14155550100", "+14155550111", None, "hi", now, resend_of=first)
    )
    stored = await store.get_message(id=second)
    assert stored is not None and stored.resend_of == first
