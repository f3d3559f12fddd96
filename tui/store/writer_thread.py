"""One thread and one sqlite3 connection that every write runs on.

A whole group-commit batch (look-ups, inserts, updates, COMMIT) is a single call into this
thread: one hand-off from the event loop per batch instead of one per statement, as it was
through aiosqlite. Measured with bench/store.py at 200k messages: a lone write's
acknowledgement went from 1.10 ms to 0.43 ms (p50); bulk throughput stayed the same
(0.46x -> 0.47x of raw sqlite3), being bound by CPU, not by hand-offs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class WriterThread:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="msgwatch-writer")
        self._conn: sqlite3.Connection | None = None

    async def start(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Open the connection on the thread that will use it (sqlite3 checks that)."""
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, connect)

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            raise RuntimeError("the writer thread has no connection")
        conn = self._conn
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, conn)

    async def close(self) -> None:
        if self._conn is not None:
            await self.call(lambda conn: conn.close())
            self._conn = None
        self._executor.shutdown(wait=False)
