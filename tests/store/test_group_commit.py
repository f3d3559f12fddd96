"""Group commit: a caller that gives up loses only its answer, never its write."""

import asyncio

import pytest

from tui.store import Store

from .conftest import callback, sid


async def test_a_cancelled_caller_is_still_written_and_its_batch_answered(store: Store) -> None:
    tasks = [asyncio.create_task(store.ingest(callback(sid(n), "sent"))) for n in range(3)]
    await asyncio.sleep(0)  # all three queued, none committed yet
    tasks[1].cancel()
    with pytest.raises(asyncio.CancelledError):
        await tasks[1]
    first, third = await tasks[0], await tasks[2]
    assert first.message_id is not None and third.message_id is not None
    for n in range(3):
        message = await store.get_message(sid=sid(n))
        assert message is not None and message.status is not None
        assert message.status.value == "sent"
