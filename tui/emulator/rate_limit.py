"""A per-sender token bucket: when a scenario asks for it, creates beyond the rate get
Twilio's 429 / 20429 ("Too Many Requests"), so clients' back-off can be tested."""

from __future__ import annotations

import time
from collections.abc import Callable


class SenderRateLimit:
    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = max(1.0, per_second)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # sender -> (tokens, at)

    def allow(self, sender: str) -> bool:
        now = self._clock()
        tokens, at = self._buckets.get(sender, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.per_second)
        if tokens < 1.0:
            self._buckets[sender] = (tokens, now)
            return False
        self._buckets[sender] = (tokens - 1.0, now)
        return True
