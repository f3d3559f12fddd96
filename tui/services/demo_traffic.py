"""A steady trickle of simulated sends, so a demo console is alive within seconds.

Real sends, through the lifecycle and the gateway to the local Twilio: the rows that
appear and move through their statuses are what the emulator's carrier and the receiver
made of them, not decoration.
"""

from __future__ import annotations

import logging
import random

from .background import Repeating
from .lifecycle import Draft, DraftError, Lifecycle

log = logging.getLogger("msgwatch.demo")

# Numbers that parse as valid mobiles in their countries (phonenumbers), spread over a few
# regions so the list and the triage view have something to group.
RECIPIENTS = (
    "+14155550100",
    "+14155550123",
    "+14155550142",
    "+447400123456",
    "+447812345678",
    "+33612345678",
    "+4915123456789",
    "+5511912345678",
    "+919812345678",
    "+2348031234567",
    "+819012345678",
    "whatsapp:+14155550199",
)
SENDERS = ("+14155550111", "+14155550112")
# The demo's Messaging Service: scheduling needs one, and the local Twilio takes any MG SID.
DEMO_SERVICE = "MG" + "de30" * 8
BODIES = (
    "Your verification code is 482913. It expires in 10 minutes.",
    "Order #1042 has shipped and arrives Thursday.",
    "Reminder: your appointment is tomorrow at 09:00. Reply C to confirm.",
    "Your table for 2 is ready. Please come to the host stand.",
    "Payment of $24.99 received. Thank you!",
    "Your driver is 3 minutes away 🚗",
    "Flight BA117 is now boarding at gate 22.",
    "Hi Sam, the invoice for October is attached — let me know if anything's off.",
    "Delivery window changed: 14:00-16:00 today.",
    "Weekly report: 1,204 messages sent, 98.7% delivered.",
)
# Seconds between sends (uniform): about one a second, enough to watch, not to flood.
INTERVAL = (0.4, 1.4)


class DemoTraffic:
    def __init__(
        self,
        lifecycle: Lifecycle,
        *,
        seed: int | None = None,
        interval: tuple[float, float] = INTERVAL,
        first_burst: int = 4,
    ) -> None:
        self.lifecycle = lifecycle
        self.interval = interval
        self.sent = 0
        self._rng = random.Random(seed)  # noqa: S311 - demo dice, not secrets
        self._burst = first_burst  # a few at once, so the first screen is not empty
        self._repeating = Repeating("demo-traffic", self._round, after_failure=2.0)

    def start(self) -> None:
        self._repeating.start()

    async def stop(self) -> None:
        await self._repeating.stop()

    def draft(self) -> Draft:
        rng = self._rng
        to = rng.choice(RECIPIENTS)
        sender = rng.choice(SENDERS)
        if to.startswith("whatsapp:"):
            sender = "whatsapp:" + sender
        return Draft(to=to, from_=sender, body=rng.choice(BODIES))

    async def _round(self) -> float:
        count, self._burst = max(1, self._burst), 0
        for _ in range(count):
            try:
                await self.lifecycle.send(self.draft())
            except DraftError as exc:  # a bad sample is our bug; say so, keep going
                log.warning("demo draft refused: %s %s", exc.field, exc.message)
            self.sent += 1
        return self._rng.uniform(*self.interval)
