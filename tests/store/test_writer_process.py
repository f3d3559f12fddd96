"""The writer's own process: errors come back as raised, a dead writer fails writes
clearly (the receiver then answers 500 and Twilio may retry), and closing is clean."""

import asyncio
import os
import signal
import sqlite3
import time
from functools import partial
from pathlib import Path

import pytest

from tui.store import Store, checkpointer
from tui.store.writer_process import (
    WriterGoneError,
    WriterProcess,
    busy_seconds,
    checkpoint_counts,
)

from .conftest import callback, connect_plain, sid


def _fail(conn: sqlite3.Connection, text: str) -> None:
    raise ValueError(text)


def _names(folder: Path) -> set[str]:
    return {found.name for found in folder.iterdir()}


def _pid(conn: sqlite3.Connection) -> int:
    return os.getpid()


async def test_calls_run_in_another_process_in_order_and_errors_come_back(
    tmp_path: Path,
) -> None:
    writer = WriterProcess()
    await writer.start(partial(connect_plain, str(tmp_path / "w.db")))
    try:
        assert await writer.call(_pid) != os.getpid()
        with pytest.raises(ValueError, match="no such thing"):
            await writer.call(_fail, "no such thing")
        # A failed call leaves the writer usable.
        assert await writer.call(_pid) != os.getpid()
    finally:
        await writer.close()
    with pytest.raises(WriterGoneError):
        await writer.call(_pid)


async def test_a_connect_error_is_raised_from_start(tmp_path: Path) -> None:
    writer = WriterProcess()
    with pytest.raises(sqlite3.OperationalError):
        await writer.start(partial(connect_plain, str(tmp_path / "missing" / "w.db")))


async def test_a_killed_writer_fails_writes_instead_of_hanging(store: Store) -> None:
    await store.ingest(callback(sid(1), "sent"))
    pid = await store._process.call(_pid)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WriterGoneError):
        await store.ingest(callback(sid(2), "sent"))
    # What was acknowledged before is still there.
    assert (await store.get_message(sid=sid(1))) is not None


@pytest.mark.parametrize("big", [False, True])
async def test_a_big_database_is_checkpointed_beside_the_writer_which_closes_last(
    tmp_path: Path, big: bool
) -> None:
    path = tmp_path / "s.db"
    if big:  # a database past the checkpointer's threshold, before the store's tables
        with sqlite3.connect(path) as pad:
            pad.execute("CREATE TABLE pad (b BLOB)")
            pad.execute("INSERT INTO pad VALUES (zeroblob(?))", (checkpointer.MIN_DATABASE_BYTES,))
        pad.close()
    store = await Store.open(path)
    try:
        await store.ingest(callback(sid(0), "sent"))
        counts = await store._process.call(checkpoint_counts, 0, 10.0)
        assert counts == ((1, 0, 0) if big else (0, 1, 0))  # copied, skipped, failed
    finally:
        await store.close()
    # The writer's connection was the last one: the log was folded in and removed.
    assert _names(tmp_path) == {"s.db"}


def _spin(conn: sqlite3.Connection, seconds: float) -> None:
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


async def test_busy_seconds_count_the_time_spent_in_calls_and_not_between_them(
    tmp_path: Path,
) -> None:
    writer = WriterProcess()
    await writer.start(partial(connect_plain, str(tmp_path / "w.db")))
    try:
        before = await writer.call(busy_seconds)
        await writer.call(_spin, 0.05)
        await asyncio.sleep(0.2)  # idle: not counted
        busy = await writer.call(busy_seconds) - before
    finally:
        await writer.close()
    # The spin and the calls around it (a busy machine may stretch them), not the idle 0.2 s.
    assert 0.05 <= busy < 0.15


async def test_the_store_reports_its_writers_busy_seconds(store: Store) -> None:
    before = await store.writer_busy_seconds()
    await store.ingest(callback(sid(1), "sent"))
    assert await store.writer_busy_seconds() > before
