"""Committed changes, pushed to whoever watches (the console, tests), never slowing writers.

Fed by the store after each commit, so a subscriber never hears of a state the database
does not hold. Each subscriber keeps only the newest change per message (a message that
moved queued -> sent -> delivered while the screen was busy is one change, delivered), so
its memory is bounded by the number of distinct messages, and capped: past `max_pending`
it drops them all and is told to re-read the store instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from tui.domain.status import MessageStatus

# A subscriber this far behind is better served by one fresh read than by a backlog.
MAX_PENDING = 10_000


@dataclass(frozen=True, slots=True)
class Change:
    message_id: int
    status: MessageStatus | None


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    changes: tuple[Change, ...]  # oldest first; at most one per message
    resync: bool = False  # changes were dropped: re-read what you show from the store


class Subscription:
    def __init__(self, feed: ChangeFeed, max_pending: int) -> None:
        self._feed = feed
        self._max = max_pending
        self._pending: dict[int, Change] = {}
        self._overflowed = False
        self._ready = asyncio.Event()
        self._closed = False

    def offer(self, change: Change) -> None:
        if self._overflowed:
            return
        self._pending.pop(change.message_id, None)  # keep it, but as the newest
        self._pending[change.message_id] = change
        if len(self._pending) > self._max:
            self._pending.clear()
            self._overflowed = True
        self._ready.set()

    async def next(self) -> ChangeBatch:
        """Wait for changes, then take all of them."""
        while not self._pending and not self._overflowed:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        batch = ChangeBatch(tuple(self._pending.values()), resync=self._overflowed)
        self._pending = {}
        self._overflowed = False
        return batch

    def close(self) -> None:
        self._closed = True
        self._feed._subscriptions.discard(self)
        self._ready.set()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ChangeBatch:
        return await self.next()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ChangeFeed:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, max_pending: int = MAX_PENDING) -> Subscription:
        subscription = Subscription(self, max_pending)
        self._subscriptions.add(subscription)
        return subscription

    def publish(self, changes: Iterable[Change]) -> None:
        if not self._subscriptions:
            return
        changes = list(changes)
        for subscription in list(self._subscriptions):
            for change in changes:
                subscription.offer(change)

    def close(self) -> None:
        for subscription in list(self._subscriptions):
            subscription.close()
