"""A round of work repeated in a background task until stopped: the shape the
reconciler and the poller share. A failing round is logged and the next one still runs;
`poke()` starts the next round at once; `stop()` cancels and waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Repeating:
    def __init__(
        self, name: str, round_: Callable[[], Awaitable[float]], after_failure: float
    ) -> None:
        """`round_` does one round and returns the seconds to wait before the next."""
        self.name = name
        self._round = round_
        self._after_failure = after_failure
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    def poke(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                wait = await self._round()
            except Exception:  # a bug in one round must not stop the next ones
                log.exception("%s: round failed", self.name)
                wait = self._after_failure
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
