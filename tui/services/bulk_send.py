"""Bulk send: one message to many recipients, at a bounded pace, with progress and a summary.

Owns the pacing (starts spaced 1/rate apart, at most `concurrency` in flight), the
reaction to Twilio's rate limits (slow down, pause, speed up again once things go well)
and the tally a person reads at the end. Each send goes through `Lifecycle.send`, so every
attempt Twilio saw has its own row in the store, exactly as a single send would.

A send Twilio refused for its rate limit (429 / 20429) is counted as refused and never
sent again automatically: `Lifecycle.send` has already stored its row as failed (Twilio
created nothing), so a quiet re-send would leave that failed row next to a second,
successful one for the same person. The summary lists those rows (`rate_limited`) so the
person can resend them (`Lifecycle.resend`) knowingly.

A send whose outcome is unknown (a 5xx, a timeout) is not re-sent either: reconciliation
finds out later whether Twilio created it. Canceling the task running `run()` cancels the
sends in flight; their rows then wait for reconciliation in the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from tui.twilio import GatewayError

from .lifecycle import Draft, DraftError, Lifecycle, SendResult

log = logging.getLogger(__name__)

DEFAULT_RATE = 10.0  # messages per second
DEFAULT_CONCURRENCY = 4
# The slowest a run is driven down to by rate limits (unless it was asked to go slower).
MIN_RATE = 0.5
SLOW_DOWN = 0.5  # the pace is multiplied by this on a rate limit...
SPEED_UP = 1.25  # ...and by this after a streak of accepted sends
SPEED_UP_AFTER = 20  # accepted sends in a row

_RATE_LIMITED_STATUS = 429
_RATE_LIMITED_CODE = 20429  # "Too Many Requests"
_LISTED_ERRORS = 3  # kinds of error spelled out in a summary sentence
_TIMES = "\N{MULTIPLICATION SIGN}"  # by name: ruff (RUF001) reads a literal one as an "x"


@dataclass(frozen=True, slots=True)
class BulkProgress:
    total: int
    sent: int  # Twilio accepted it (queued / accepted / scheduled)
    refused: int  # Twilio refused it (its row is failed) or the draft check did (no row)
    unknown: int  # outcome unknown: reconciliation settles these later
    errors: tuple[tuple[int | None, str, int], ...]  # (code, one message, count)
    rate: float  # the current pace, messages per second

    @property
    def done(self) -> int:
        return self.sent + self.refused + self.unknown

    @property
    def finished(self) -> bool:
        """Every recipient attempted (a canceled run never gets here; see BulkSummary)."""
        return self.done >= self.total


@dataclass(frozen=True, slots=True)
class BulkSummary:
    progress: BulkProgress
    canceled: int  # recipients never attempted because the run was canceled
    elapsed: float  # seconds
    # Store rows Twilio refused for its rate limit: sending them again is safe (nothing
    # was created) but left to the person, who can pass each to `Lifecycle.resend`.
    rate_limited: tuple[int, ...] = ()

    def describe(self) -> str:
        """One or two sentences for a person, e.g. "48 of 50 sent, 2 refused (21610 x 2:
        Attempt to send to unsubscribed recipient). 12.3 s." (with a real times sign)."""
        p = self.progress
        parts = [f"{p.sent} of {p.total} sent"]
        if p.refused:
            parts.append(f"{p.refused} refused")
        if p.unknown:
            parts.append(f"{p.unknown} with an unknown outcome (to be reconciled)")
        if self.canceled:
            parts.append(f"{self.canceled} not attempted (canceled)")
        text = ", ".join(parts)
        if p.errors:
            listed = [_describe_error(*error) for error in p.errors[:_LISTED_ERRORS]]
            more = len(p.errors) - _LISTED_ERRORS
            if more > 0:
                listed.append(f"{more} other kind{'s' if more > 1 else ''} of error")
            text += f" ({'; '.join(listed)})"
        return f"{text}. {self.elapsed:.1f} s."


def _describe_error(code: int | None, message: str, count: int) -> str:
    if code is None:
        return f"{count} {_TIMES} {message}"
    return f"{code} {_TIMES} {count}: {message}"


@dataclass(slots=True)
class _ErrorCount:
    code: int | None
    message: str  # the first one seen
    count: int = 1


@dataclass(slots=True)
class _Tally:
    sent: int = 0
    refused: int = 0
    unknown: int = 0
    # A dict keeps first-seen order, which breaks ties between equally frequent errors.
    errors: dict[tuple[int | None, str], _ErrorCount] = field(default_factory=dict)
    rate_limited: list[int] = field(default_factory=list)

    def error(self, code: int | None, message: str) -> None:
        # Grouped by code: Twilio's wording for one code varies little and the code is what
        # a person looks up. Without a code the message is all there is to group by.
        key = (code, "" if code is not None else message)
        entry = self.errors.get(key)
        if entry is None:
            self.errors[key] = _ErrorCount(code, message)
        else:
            entry.count += 1

    def error_rows(self) -> tuple[tuple[int | None, str, int], ...]:
        ranked = sorted(self.errors.values(), key=lambda e: -e.count)  # stable sort
        return tuple((e.code, e.message, e.count) for e in ranked)


def _is_rate_limit(error: GatewayError) -> bool:
    return (
        error.http_status == _RATE_LIMITED_STATUS
        or error.code == _RATE_LIMITED_CODE
        or error.retry_after is not None
    )


class BulkSend:
    """One run of one message to `recipients` (the template's own `to` is ignored).

    `clock` and `sleep` pace the starts; a fake pair must let `clock` advance when `sleep`
    is awaited. `on_progress` is called once with zeros when sending begins and then after
    each completed send, from the event loop: keep it cheap.
    """

    def __init__(
        self,
        lifecycle: Lifecycle,
        template: Draft,
        recipients: Sequence[str],
        *,
        rate: float = DEFAULT_RATE,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: Callable[[BulkProgress], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:  # also refuses NaN
            raise ValueError("rate must be positive")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not recipients:
            raise ValueError("there must be at least one recipient")
        self._lifecycle = lifecycle
        self._template = template
        self._recipients = tuple(recipients)
        self._initial_rate = rate
        # Never above the pace asked for: a run asked to go slower than MIN_RATE stays so.
        self._floor = min(rate, MIN_RATE)
        self._rate = rate
        self._concurrency = concurrency
        self._on_progress = on_progress
        self._clock = clock
        self._sleep = sleep
        self._tally = _Tally()
        self._next_start = 0.0
        self._streak = 0  # accepted sends since the last rate limit or unknown outcome
        # Bumped on each slow-down; a rate limit for a send started before the latest one
        # was answered to the old pace and must not halve the new pace again.
        self._generation = 0
        self._stop = asyncio.Event()
        self._ran = False

    @property
    def rate(self) -> float:
        return self._rate

    def progress(self) -> BulkProgress:
        tally = self._tally
        return BulkProgress(
            total=len(self._recipients),
            sent=tally.sent,
            refused=tally.refused,
            unknown=tally.unknown,
            errors=tally.error_rows(),
            rate=self._rate,
        )

    def cancel(self) -> None:
        """Start no more sends; those in flight finish and are counted, then `run`
        returns. Safe to call from `on_progress`."""
        self._stop.set()

    async def run(self) -> BulkSummary:
        """Send to every recipient in order; the summary once the last send is done.

        Raises DraftError, before any request, when the template itself would be refused
        (a bad body or sender), so one mistake is one error and not one per recipient.
        """
        if self._ran:
            raise RuntimeError("a BulkSend runs once")
        self._ran = True
        self._check_template()
        started = self._clock()
        self._next_start = started
        self._emit()
        slots = asyncio.Semaphore(self._concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        attempted = 0
        try:
            for index in range(len(self._recipients)):
                await slots.acquire()
                if not self._stop.is_set():
                    await self._wait_for_turn()
                if self._stop.is_set():
                    slots.release()
                    break
                self._next_start = self._clock() + 1.0 / self._rate
                task = asyncio.create_task(self._attempt(index, self._generation, slots))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                attempted += 1
            if in_flight:
                await asyncio.gather(*in_flight)
        except BaseException:
            # Canceled (or a bug): sends still in flight must not outlive the run.
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            raise
        return BulkSummary(
            progress=self.progress(),
            canceled=len(self._recipients) - attempted,
            elapsed=self._clock() - started,
            rate_limited=tuple(self._tally.rate_limited),
        )

    # -- machinery -------------------------------------------------------------------

    def _check_template(self) -> None:
        # The check needs a recipient; a bad one is that recipient's problem, not the
        # template's, so look for one that passes before judging the rest of the draft.
        # When none does, every send is refused for its own To anyway.
        for recipient in self._recipients:
            try:
                self._lifecycle.check(replace(self._template, to=recipient))
            except DraftError as exc:
                if exc.field != "To":
                    raise
            else:
                return

    async def _wait_for_turn(self) -> None:
        """Wait until the next start is due, or until canceled. A rate limit arriving
        meanwhile moves the due time later, hence the loop."""
        while not self._stop.is_set():
            due = self._next_start
            delay = due - self._clock()
            if delay <= 0:
                return
            sleeper = asyncio.ensure_future(self._sleep(delay))
            stopper = asyncio.ensure_future(self._stop.wait())
            try:
                await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                stopper.cancel()
            if sleeper.done() and not sleeper.cancelled():
                sleeper.result()  # a failing `sleep` is a bug to hear about, not to skip
            if self._next_start == due:
                # Slept the whole delay: go, even if the clock reads a hair early (loop
                # timers may fire within their resolution) or a fake clock did not move.
                return

    async def _attempt(self, index: int, generation: int, slot: asyncio.Semaphore) -> None:
        recipient = self._recipients[index]
        try:
            try:
                result = await self._lifecycle.send(replace(self._template, to=recipient))
            except DraftError as exc:
                self._tally.refused += 1
                self._tally.error(exc.code, exc.message)
            except Exception as exc:  # one send's surprise must not end the run
                # By position: a phone number is personal data and logs travel.
                log.exception("bulk send to recipient #%d failed unexpectedly", index + 1)
                self._tally.unknown += 1
                self._tally.error(None, str(exc))
                self._streak = 0
            else:
                self._record(result, generation)
            self._emit()
        finally:
            slot.release()

    def _record(self, result: SendResult, generation: int) -> None:
        error = result.error
        tally = self._tally
        if error is None:
            tally.sent += 1
            self._streak += 1
            if self._streak >= SPEED_UP_AFTER:
                self._streak = 0
                self._rate = min(self._initial_rate, self._rate * SPEED_UP)
            return
        tally.error(error.code, error.message)
        if result.outcome_unknown:
            tally.unknown += 1
            self._streak = 0
            return
        tally.refused += 1
        if _is_rate_limit(error):
            tally.rate_limited.append(result.message_id)
            self._slow_down(error.retry_after, generation)

    def _slow_down(self, retry_after: float | None, generation: int) -> None:
        self._streak = 0
        if generation == self._generation:
            self._generation += 1
            self._rate = max(self._floor, self._rate * SLOW_DOWN)
        pause = max(retry_after or 0.0, 1.0 / self._rate)
        self._next_start = max(self._next_start, self._clock() + pause)

    def _emit(self) -> None:
        if self._on_progress is None:
            return
        try:
            self._on_progress(self.progress())
        except Exception:  # the display's bug must not strand sends half done
            log.exception("bulk send progress callback failed")
