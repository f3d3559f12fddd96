"""The simulated carrier: moves each created message through its lifecycle on a clock
(real time divided by a speed factor) and tells its StatusCallback, the way Twilio does.

Transitions and their callbacks (outbound-message-status-in-status-callbacks):
  accepted/scheduled -> queued (callback, Messaging Service only; scheduled waits SendAt)
  queued -> sending (no callback) -> sent (callback) or failed (callback, ErrorCode)
  sent -> delivered | undelivered (callback, ErrorCode on undelivered, RawDlrDoneDate)
  delivered -> read (callback with EventType=READ; WhatsApp recipients only)
  scheduled -> canceled (callback when canceled through the API)
The scenario adds the real world's mess: callbacks overtaken, repeated or lost, and
recipients who answer (some with STOP).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections.abc import Coroutine
from typing import Any

from tui.domain.segments import segment_info
from tui.domain.status import MessageStatus

from .callbacks import CallbackSender
from .emulator import Emulator
from .model import API_VERSION, EmulatedMessage, new_sid
from .scenarios import Latency, Mix, Scenario

S = MessageStatus
REPLIES = ("Thanks!", "ok 👍", "Who is this?", "See you then", "Got it, thank you")
STOP_WORDS = ("STOP", "stop", "UNSUBSCRIBE")
PRICE_PER_SEGMENT = 0.0079  # what the emulator bills, in USD, per segment sent


def _pick(rng: random.Random, mix: Mix) -> int:
    codes = [c for c, _ in mix]
    weights = [w for _, w in mix]
    return rng.choices(codes, weights)[0]


def _canceled(message: EmulatedMessage) -> bool:
    return message.status is S.CANCELED


def pool_number(messaging_service_sid: str) -> str:
    """The sender a Messaging Service "picks" from its pool: stable per service."""
    digits = int(hashlib.sha256(messaging_service_sid.encode()).hexdigest(), 16) % 10_000
    return f"+1415555{digits:04d}"


class _Callbacks:
    """One message's status callbacks, with the scenario's reordering, repeats and drops."""

    def __init__(self, carrier: Carrier, message: EmulatedMessage) -> None:
        self.carrier = carrier
        self.message = message
        self.held: list[tuple[str, str]] | None = None
        # One message's callbacks go out one after another, in the order emitted (asyncio
        # locks are FIFO): only the scenario's out_of_order reorders them, not a race.
        self.in_order = asyncio.Lock()

    def emit(self, params: list[tuple[str, str]], *, final: bool = False) -> None:
        carrier, url = self.carrier, self.message.status_callback
        if url is None:
            return
        rng, scenario = carrier.rng, carrier.scenario
        if rng.random() < scenario.drop:
            carrier.sender.record_dropped("status", url, params)
        elif self.held is None and not final and rng.random() < scenario.out_of_order:
            self.held = params  # the next callback overtakes this one
            return
        else:
            carrier.spawn(self._send(url, params))
        if self.held is not None:
            held, self.held = self.held, None
            carrier.spawn(self._send(url, held))

    def flush(self) -> None:
        if self.held is not None and self.message.status_callback:
            held, self.held = self.held, None
            self.carrier.spawn(self._send(self.message.status_callback, held))

    async def _send(self, url: str, params: list[tuple[str, str]]) -> None:
        carrier = self.carrier
        key = carrier.emulator.credentials.signing_key(self.message.account_sid)
        async with self.in_order:
            first = await carrier.sender.send("status", url, params, key)
            if first is not None and carrier.rng.random() < carrier.scenario.duplicate:
                token = first.idempotency_token
                await carrier.sender.send("status", url, params, key, token=token)


class Carrier:
    def __init__(
        self,
        emulator: Emulator,
        scenario: Scenario,
        sender: CallbackSender,
        *,
        speed: float = 1.0,
        seed: int | None = None,
        inbound_url: str | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.emulator = emulator
        self.scenario = scenario
        self.sender = sender
        self.speed = speed
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, seeded to be replayable
        self.inbound_url = inbound_url
        self._tasks: set[asyncio.Task[None]] = set()
        self._callbacks: dict[str, _Callbacks] = {}
        emulator.lifecycle = self

    # -- Lifecycle protocol --------------------------------------------------------

    def admit(self, message: EmulatedMessage) -> None:
        self._callbacks[message.sid] = _Callbacks(self, message)
        self.spawn(self._run(message))

    def cancel(self, message: EmulatedMessage) -> None:
        callbacks = self._callbacks.get(message.sid)
        if callbacks is not None:
            callbacks.emit(self._status_params(message), final=True)

    # -- running -------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def idle(self) -> None:
        """Wait until no message is moving and no callback is in flight (tests, benches)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _wait(self, latency: Latency) -> float:
        emulated = self.rng.uniform(latency.low, latency.high)
        await asyncio.sleep(emulated / self.speed)
        return emulated

    def _move(self, message: EmulatedMessage, status: MessageStatus) -> None:
        message.status = status
        message.date_updated = self.emulator.clock()

    async def _run(self, message: EmulatedMessage) -> None:
        callbacks = self._callbacks[message.sid]
        try:
            await self._lifecycle(message, callbacks)
        finally:
            callbacks.flush()
            self._callbacks.pop(message.sid, None)

    async def _lifecycle(self, message: EmulatedMessage, callbacks: _Callbacks) -> None:
        scenario, rng = self.scenario, self.rng
        if message.status is S.SCHEDULED and message.send_at is not None:
            ahead = (message.send_at - self.emulator.clock()).total_seconds()
            await asyncio.sleep(max(ahead, 0) / self.speed)
        if _canceled(message):
            return
        if message.status in (S.ACCEPTED, S.SCHEDULED):
            await self._wait(scenario.queue_latency)
            if _canceled(message):  # the API may cancel while this task sleeps
                return
            if message.messaging_service_sid and message.from_ is None:
                message.from_ = pool_number(message.messaging_service_sid)
            self._move(message, S.QUEUED)
            callbacks.emit(self._status_params(message))

        waited = await self._wait(scenario.send_latency)
        self._move(message, S.SENDING)  # a resource status Twilio sends no callback for
        outcome = rng.random()
        fails = outcome >= scenario.delivered and rng.random() < scenario.failed_share
        if waited > message.validity_period:
            self._fail(message, 30036, "Validity Period Expired")
        elif fails:
            self._fail(message, _pick(rng, scenario.failed_codes), None)
        if message.status is S.FAILED:
            callbacks.emit(self._status_params(message), final=True)
            return
        self._move(message, S.SENT)
        message.date_sent = self.emulator.clock()
        message.price = f"-{PRICE_PER_SEGMENT * message.segments:.5f}"
        callbacks.emit(self._status_params(message))

        await self._wait(scenario.deliver_latency)
        if outcome < scenario.delivered:
            self._move(message, S.DELIVERED)
        else:
            message.error_code = _pick(rng, scenario.undelivered_codes)
            self._move(message, S.UNDELIVERED)
        whatsapp = message.to.startswith("whatsapp:")
        reads = whatsapp and message.status is S.DELIVERED and rng.random() < scenario.read
        callbacks.emit(self._status_params(message), final=not reads)

        if reads:
            await self._wait(scenario.read_latency)
            self._move(message, S.READ)
            callbacks.emit(self._status_params(message, read=True), final=True)
        if message.status in (S.DELIVERED, S.READ) and rng.random() < scenario.reply:
            await self._wait(scenario.reply_latency)
            await self._reply(message)

    def _fail(self, message: EmulatedMessage, code: int, text: str | None) -> None:
        message.error_code = code
        message.error_message = text
        self._move(message, S.FAILED)

    def _status_params(
        self, message: EmulatedMessage, *, read: bool = False
    ) -> list[tuple[str, str]]:
        """The parameters the seeds list for a status callback."""
        status = message.status.value
        params = [
            ("AccountSid", message.account_sid),
            ("ApiVersion", API_VERSION),
            ("From", message.from_ or ""),
            ("MessageSid", message.sid),
            ("MessageStatus", status),
            ("SmsSid", message.sid),
            ("SmsStatus", status),
            ("To", message.to),
        ]
        if message.messaging_service_sid:
            params.append(("MessagingServiceSid", message.messaging_service_sid))
        if message.status in (S.FAILED, S.UNDELIVERED) and message.error_code is not None:
            params.append(("ErrorCode", str(message.error_code)))
        if message.status in (S.DELIVERED, S.UNDELIVERED):
            params.append(("RawDlrDoneDate", self.emulator.clock().strftime("%y%m%d%H%M")))
        if read:
            params.append(("EventType", "READ"))
        if message.to.startswith("whatsapp:"):
            params.append(("ChannelPrefix", "whatsapp"))
        return params

    async def _reply(self, original: EmulatedMessage) -> None:
        """The recipient answers: an inbound message, posted to the inbound webhook."""
        rng = self.rng
        stop = rng.random() < self.scenario.stop_share
        body = rng.choice(STOP_WORDS) if stop else rng.choice(REPLIES)
        now = self.emulator.clock()
        sender = original.messaging_service_sid or original.from_ or ""
        inbound = EmulatedMessage(
            sid=new_sid("SM"),
            account_sid=original.account_sid,
            to=original.from_ or "",
            from_=original.to,
            messaging_service_sid=original.messaging_service_sid,
            body=body,
            media_urls=(),
            status=S.RECEIVED,
            segments=segment_info(body).segments,
            date_created=now,
            date_updated=now,
            date_sent=now,
            seq=self.emulator.book.next_seq(),
            direction="inbound",
        )
        self.emulator.book.add(inbound)
        if stop:
            self.emulator.opt_out(original.to, sender)
        if self.inbound_url:
            params = [
                ("AccountSid", inbound.account_sid),
                ("ApiVersion", API_VERSION),
                ("Body", body),
                ("From", inbound.from_ or ""),
                ("MessageSid", inbound.sid),
                ("NumMedia", "0"),
                ("NumSegments", str(inbound.segments)),
                ("SmsMessageSid", inbound.sid),
                ("SmsSid", inbound.sid),
                ("SmsStatus", "received"),
                ("To", inbound.to),
            ]
            if inbound.messaging_service_sid:
                params.append(("MessagingServiceSid", inbound.messaging_service_sid))
            key = self.emulator.credentials.signing_key(inbound.account_sid)
            await self.sender.send("inbound", self.inbound_url, params, key)
