"""Which messages changed since the screen last looked, from wherever the changes come.

Two sources feed one set of message ids:
- this process's store publishes after each commit (receiver, sends, reconciliation);
- when another process writes the database (a shared `msgwatch serve`), a cheap
  `PRAGMA data_version` poll notices its commits and `change_seq` says which rows moved.

The screen drains the set at its own pace (at most ~20 times a second); between drains
any number of changes to one message cost one entry, so ingestion never waits for paint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from tui.store import Store, Subscription

log = logging.getLogger("msgwatch.changes")

# How often a follower checks for another process's commits. The console promises to show
# them within 250 ms; a data_version read costs a few microseconds.
POLL_EVERY = 0.1
# Rows per changed_since read: a burst larger than this takes several reads, not one huge one.
POLL_BATCH = 2000


class ChangeTracker:
    def __init__(
        self, store: Store, *, follow_other_writers: bool, poll_every: float = POLL_EVERY
    ) -> None:
        self.store = store
        self.follow_other_writers = follow_other_writers
        self.poll_every = poll_every
        self._pending: set[int] = set()
        self._resync = False
        self._first_pending_at: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._seq = 0
        self.wakeup = asyncio.Event()  # set when something is pending

    async def start(self) -> None:
        subscription = self.store.subscribe()
        self._tasks.append(asyncio.create_task(self._listen(subscription), name="changes-feed"))
        if self.follow_other_writers:
            self._seq = await self.store.max_change_seq()
            self._tasks.append(asyncio.create_task(self._poll(), name="changes-poll"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def oldest_pending_age(self) -> float | None:
        """Seconds the oldest undrained change has waited (for latency figures)."""
        if self._first_pending_at is None:
            return None
        return time.monotonic() - self._first_pending_at

    def drain(self) -> tuple[set[int], bool]:
        """(ids of changed messages, resync): resync means changes were dropped and
        everything shown should be re-read."""
        ids, resync = self._pending, self._resync
        self._pending, self._resync = set(), False
        self._first_pending_at = None
        self.wakeup.clear()
        return ids, resync

    def _add(self, ids: set[int] | list[int], resync: bool = False) -> None:
        if not ids and not resync:
            return
        if self._first_pending_at is None:
            self._first_pending_at = time.monotonic()
        self._pending.update(ids)
        self._resync = self._resync or resync
        self.wakeup.set()

    async def _listen(self, subscription: Subscription) -> None:
        with subscription:
            async for batch in subscription:
                self._add([c.message_id for c in batch.changes], batch.resync)

    async def _poll(self) -> None:
        version = await self.store.data_version()
        while True:
            await asyncio.sleep(self.poll_every)
            try:
                now = await self.store.data_version()
                if now == version:
                    continue
                version = now
                while True:
                    rows = await self.store.changed_since(self._seq, POLL_BATCH)
                    if not rows:
                        break
                    self._seq = max(self._seq, max(r.change_seq for r in rows))
                    self._add([r.id for r in rows])
                    if len(rows) < POLL_BATCH:
                        break
            except asyncio.CancelledError:
                raise
            except Exception:  # a locked or busy moment: try again next tick
                log.exception("following the database failed; retrying")
