"""Reconciliation: the store catches up with Twilio when callbacks were lost.

Twilio's "Best Practices for Messaging Delivery Status Logging": a message with no final
status after a while (the guide uses 12 hours) should be fetched by SID, because its last
callback may never have arrived. A live console cannot wait 12 hours, so the threshold
here is configurable (`stuck_after`, 10 minutes by default). Each fetch is stored as an
event and applied through the same merge rule as a callback, so a fetch can never move a
message backwards, and sends whose create answer was lost are looked up (see Lifecycle).

Runs once at start, then every `every` seconds, until stopped. Each round takes the next
page of stuck messages, oldest first, and wraps around at the end: messages that fail the
same way every round (Twilio no longer has them: deleted, another account's, an earlier
demo's) must not hide the ones behind them. A message Twilio answers 404 for is not asked
about again in this session.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from tui.store import Store
from tui.twilio import NOT_FOUND, GatewayError

from .background import Repeating
from .lifecycle import Lifecycle

log = logging.getLogger(__name__)

# Fetches in flight at once: enough to clear a backlog quickly, few enough to stay far
# from Twilio's concurrency limits (and to leave room for the user's own sends).
CONCURRENCY = 4
BATCH = 200  # messages looked at per round; the next round takes the rest
UNKNOWN_AFTER = timedelta(seconds=30)  # give a lost create's answer time before listing


@dataclass(slots=True)
class RoundReport:
    fetched: int = 0
    changed: int = 0
    bound: int = 0  # lost creates found at Twilio
    not_created: int = 0
    unknown: int = 0  # Twilio answered 404 (this round; they are skipped from now on)
    errors: list[str] = field(default_factory=list)


class Reconciler:
    def __init__(
        self,
        lifecycle: Lifecycle,
        *,
        stuck_after: timedelta = timedelta(minutes=10),
        every: float = 60.0,
        batch: int = BATCH,
    ) -> None:
        self.lifecycle = lifecycle
        self.store: Store = lifecycle.store
        self.stuck_after = stuck_after
        self.every = every
        self.batch = batch
        self.last: RoundReport | None = None
        self._after: tuple[float, int] | None = None  # where the next round's page starts
        self._unknown: set[int] = set()  # message ids Twilio answered 404 for
        self._repeating = Repeating("reconciler", self._round, after_failure=every)

    async def run_once(self) -> RoundReport:
        report = RoundReport()
        now = self.lifecycle.clock()
        stuck = await self.store.in_flight_older_than(
            now, self.stuck_after, limit=self.batch, after=self._after
        )
        last = stuck[-1] if len(stuck) == self.batch else None  # a short page: wrap around
        self._after = (last.status_at, last.id) if last is not None else None
        limit = asyncio.Semaphore(CONCURRENCY)

        async def fetch(message_id: int, status: object) -> None:
            async with limit:
                try:
                    after = await self.lifecycle.refresh(message_id)
                except (GatewayError, LookupError) as exc:
                    if isinstance(exc, GatewayError) and exc.code == NOT_FOUND:
                        self._unknown.add(message_id)
                        report.unknown += 1
                    else:
                        report.errors.append(f"message {message_id}: {exc}")
                    return
                report.fetched += 1
                if after != status:
                    report.changed += 1

        await asyncio.gather(*(fetch(m.id, m.status) for m in stuck if m.id not in self._unknown))
        for message in await self.store.unsent_older_than(now, UNKNOWN_AFTER, limit=self.batch):
            try:
                outcome = await self.lifecycle.resolve_unknown(message)
            except GatewayError as exc:
                report.errors.append(f"message {message.id}: {exc}")
                continue
            if outcome == "bound":
                report.bound += 1
            elif outcome == "not created":
                report.not_created += 1
        self.last = report
        if report.unknown:
            log.warning(
                "reconcile: Twilio has no record of %d in-flight messages (404); "
                "not asking again this session",
                report.unknown,
            )
        if report.errors:
            log.warning("reconcile: %d errors, first: %s", len(report.errors), report.errors[0])
        return report

    def start(self) -> None:
        self._repeating.start()

    def poke(self) -> None:
        """Run a round now (e.g. the user asked to refresh)."""
        self._repeating.poke()

    async def stop(self) -> None:
        await self._repeating.stop()

    async def _round(self) -> float:
        await self.run_once()
        return self.every
