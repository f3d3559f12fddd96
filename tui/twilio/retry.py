"""When to try a call again: the retry policy and its back-off.

Owns `RetryPolicy` (how many tries, exponential back-off with full jitter, capped) and the
reading of a Retry-After header. Which failures may be retried at all is `failures.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` is the total number of tries for a retryable failure (1 = never retry).

    The wait before retry n (1-based) is drawn uniformly from [0, min(max_delay,
    base_delay * 2**(n-1))]: "full jitter", so many clients rate-limited together do not
    come back together (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number `retry` (1-based)."""
        # Capping the exponent keeps 2**n finite for absurd attempt counts.
        return min(self.max_delay, self.base_delay * 2.0 ** min(max(retry - 1, 0), 62))

    def delay(self, retry: int, draw: float) -> float:
        """The wait before retry number `retry`, for a uniform `draw` in [0, 1]."""
        return self.ceiling(retry) * min(max(draw, 0.0), 1.0)


def parse_retry_after(raw: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (RFC 9110: delay-seconds or an HTTP
    date), or None when absent or unreadable."""
    if raw is None:
        return None
    text = raw.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
