"""Group commit: a caller that gives up loses only its answer, never its write; ops that
queue while the writer is busy go together in the next batch."""

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import pytest

from tui.store import Store
from tui.store.group_commit import IN_FLIGHT, GroupCommitWriter
from tui.store.writer_process import WriterProcess

from .conftest import callback, connect_plain, sid


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


def _apply_slowly(conn: sqlite3.Connection, ops: Sequence[float]) -> list[float]:
    """Each op is a number of seconds to hold the writer for (in its own process)."""
    time.sleep(sum(ops))
    return list(ops)


async def test_ops_queued_while_every_slot_is_busy_share_the_next_batch(
    tmp_path: Path,
) -> None:
    process = WriterProcess()
    await process.start(partial(connect_plain, str(tmp_path / "w.db")))
    writer: GroupCommitWriter[float, float] = GroupCommitWriter(process, _apply_slowly)
    writer.start()
    try:
        # Every in-flight slot taken, one batch each.
        busy = []
        for n in range(IN_FLIGHT):
            busy.append(asyncio.create_task(writer.submit(0.2)))
            for _ in range(5):  # queued, taken, sent: a few turns of the loop
                await asyncio.sleep(0)
            assert writer.batches == n + 1
        # Two ops arriving one after the other while the writer is busy: the first must
        # not be sent off alone (a batch frozen at one op while it waits for a slot), or
        # the second waits for another whole batch.
        first = asyncio.create_task(writer.submit(0.0))
        for _ in range(5):
            await asyncio.sleep(0)
        second = asyncio.create_task(writer.submit(0.0))
        assert await asyncio.gather(*busy, first, second) == [0.2] * IN_FLIGHT + [0.0, 0.0]
        assert writer.batches == IN_FLIGHT + 1
        assert writer.largest_batch == 2
    finally:
        await writer.close()
        await process.close()
