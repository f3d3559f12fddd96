"""The gateway's errors: what went wrong talking to Twilio, in one typed shape.

Owns `GatewayError` (a Twilio error answer or a transport failure, with the catalog's
explanation) and `OutcomeUnknownError` (a create that may or may not have happened). How
SDK and aiohttp exceptions become these is `failures.py`'s job.
"""

from __future__ import annotations

from tui.domain.errors import explain

# Twilio's error codes are five digits (the catalog allows six). The SDK puts the HTTP
# status into `code` when an error body has none, so anything this small is not a code.
_SMALLEST_CODE = 1000

# "The requested resource ... was not found": Twilio has no such message (deleted, or
# another account's); asking again will not change that.
NOT_FOUND = 20404


def twilio_code(raw: object) -> int | None:
    """A Twilio error code from an error answer, or None when it has none."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= _SMALLEST_CODE else None


class GatewayError(Exception):
    """A call to Twilio failed: an error answer (code and HTTP status) or no answer at all
    (both None: connection refused, timeout). `explanation` and `retryable` default to the
    error catalog's entry for `code`.

    `retryable` says whether trying again later can help, not whether the gateway already
    did: it retries rate limits and transport failures itself, within its RetryPolicy.
    `retry_after` is the wait Twilio asked for (Retry-After), when it asked for one.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        explanation: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.message = message
        info = explain(code)
        if explanation is None and info is not None:
            explanation = info.explanation
        self.explanation = explanation
        if retryable is None:  # the catalog knows the code's nature; unknown codes: no
            retryable = info.retryable if info is not None else False
        self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = " ".join(self.message.split())  # one line, whatever the server sent
        if self.code is not None and self.http_status is not None:
            return f"{self.code} (HTTP {self.http_status}): {text}"
        if self.code is not None:
            return f"{self.code}: {text}"
        if self.http_status is not None:
            return f"HTTP {self.http_status}: {text}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code!r}, "
            f"http_status={self.http_status!r}, retryable={self.retryable!r})"
        )


class OutcomeUnknownError(GatewayError):
    """A create was sent but no clear answer came back (a 5xx, a timeout, a dropped
    connection): the message may exist. Twilio has no idempotency key for Messages, so the
    gateway never replays it, and neither should the caller blindly: reconcile first (list
    by `To` around the time sent) and send again only if the message is not there.

    Hence `retryable` is False: a retry is not safe until reconciliation says so.
    """

    def __init__(
        self, message: str, *, code: int | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message, code=code, http_status=http_status, retryable=False)
