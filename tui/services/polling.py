"""Polling mode: statuses by fetching, for when Twilio cannot reach a receiver.

On a laptop there is usually no public URL, so no callbacks arrive. The poller then
fetches each in-flight message itself, on an adaptive schedule and within a budget:

- A message is first fetched `first` seconds after it is watched; every fetch that finds
  nothing new doubles its interval (up to `longest`); a fetch that finds a change resets
  it, because one transition usually follows another within seconds (sent -> delivered).
- All fetches share a token bucket of `budget_per_minute` requests (default 60, i.e. one
  a second on average, a tenth of Twilio's default REST concurrency and far below any
  account's rate limits), with bursts of up to a sixth of it. When the bucket is empty,
  the messages due longest ago go first and the rest wait: the budget is never exceeded.
- A message leaves the schedule when its status is final, or when Twilio no longer has it.
- Scheduled messages are looked at when their send time comes, not before.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from tui.domain.status import MessageStatus, is_terminal
from tui.store import Store
from tui.twilio import NOT_FOUND, GatewayError

from .background import Repeating
from .lifecycle import Lifecycle

log = logging.getLogger(__name__)


@dataclass(order=True, slots=True)
class _Due:
    at: float
    message_id: int = field(compare=False)
    interval: float = field(compare=False)


class TokenBucket:
    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 6)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait_time(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate) if self.rate > 0 else 60.0


class Poller:
    def __init__(
        self,
        lifecycle: Lifecycle,
        *,
        budget_per_minute: int = 60,
        first: float = 1.0,
        longest: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lifecycle = lifecycle
        self.store: Store = lifecycle.store
        self.first = first
        self.longest = longest
        self.clock = clock
        self.bucket = TokenBucket(budget_per_minute, clock)
        self.requests = 0
        self._heap: list[_Due] = []
        self._watched: set[int] = set()
        self._repeating = Repeating("poller", self.step, after_failure=first)

    @property
    def watching(self) -> int:
        return len(self._watched)

    def watch(self, message_id: int, *, send_at: float | None = None) -> None:
        """Follow this message until its status is final."""
        if message_id in self._watched:
            return
        delay = self.first
        if send_at is not None:  # nothing happens before its send time
            delay = max(delay, send_at - self.lifecycle.clock().timestamp())
        self._watched.add(message_id)
        heapq.heappush(self._heap, _Due(self.clock() + delay, message_id, self.first))
        self._repeating.poke()

    async def watch_in_flight(self) -> int:
        """Watch every message the store has in flight (at start-up)."""
        now = self.lifecycle.clock()
        found = await self.store.in_flight_older_than(now, timedelta(0), limit=10_000)
        for message in found:
            self.watch(message.id)
        return len(found)

    async def step(self) -> float:
        """Poll what is due, within the budget; returns seconds until something is due."""
        while self._heap and self._heap[0].at <= self.clock():
            if not self.bucket.take():
                return self.bucket.wait_time()
            due = heapq.heappop(self._heap)
            self.requests += 1
            await self._poll(due)
        if not self._heap:
            return self.longest
        return max(0.0, self._heap[0].at - self.clock())

    async def _poll(self, due: _Due) -> None:
        before = await self.store.get_message(id=due.message_id)
        if before is None or not before.sid or _final(before.status):
            self._watched.discard(due.message_id)
            return
        try:
            after = await self.lifecycle.refresh(due.message_id)
        except GatewayError as exc:
            if exc.code == NOT_FOUND:  # deleted at Twilio: nothing more will happen
                self._watched.discard(due.message_id)
                return
            log.info("poll of message %d failed: %s", due.message_id, exc)
            after = before.status
        if _final(after):
            self._watched.discard(due.message_id)
            return
        changed = after != before.status
        interval = self.first if changed else min(self.longest, due.interval * 2)
        wait = interval
        if after is MessageStatus.SCHEDULED and before.send_at is not None:
            wait = max(wait, before.send_at - self.lifecycle.clock().timestamp())
        heapq.heappush(self._heap, _Due(self.clock() + wait, due.message_id, interval))

    def start(self) -> None:
        self._repeating.start()

    async def stop(self) -> None:
        await self._repeating.stop()


def _final(status: MessageStatus | None) -> bool:
    return status is not None and is_terminal(status)
