"""Turning a failed attempt into a GatewayError and a verdict: retry now, or give up.

The rules, in order:
- 429, or code 20429 whatever the status: Twilio refused before doing anything; retry
  (after Retry-After, when given).
- a 5xx: the operation may or may not have happened. Reads and the idempotent updates
  (cancel, redact, delete) are retried; a create is never replayed, since Twilio has no
  idempotency key for Messages: OutcomeUnknownError.
- other error answers (4xx): Twilio's verdict on this request; not retried here
  (`retryable` comes from the error catalog: "later" may still help, e.g. 21611).
- no answer: if the request never left (connection refused, DNS, a connect timeout),
  retry, whatever the operation. If it left (a timeout, a reset), treat it like a 5xx.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.response import Response as SdkResponse

from .errors import GatewayError, OutcomeUnknownError, twilio_code
from .wire import Exchange

_RATE_LIMITED_STATUS = 429
_RATE_LIMITED_CODE = 20429  # "Too Many Requests" (https://www.twilio.com/docs/api/errors/20429)

# The SDK prefixes Twilio's message with its own words ("Unable to create record: ...").
_SDK_PREFIX = re.compile(r"^Unable to \w+ (?:record|page)(?:: |$)")


@dataclass(frozen=True, slots=True)
class Failure:
    error: GatewayError
    retry: bool  # may the gateway try again now (within its policy)?
    retry_after: float | None = None  # what the server asked for, seconds


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    code: int | None
    message: str


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unexpected answer"


def _clean(message: str, status: int) -> str:
    text = _SDK_PREFIX.sub("", message).strip()
    return text or _reason(status)


def _answer_from_body(status: int, body: str) -> _Answer:
    """An error answer the SDK did not parse (a failed list page)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return _Answer(status, None, _reason(status))
    if not isinstance(payload, dict):
        return _Answer(status, None, _reason(status))
    message = payload.get("message") or payload.get("detail") or payload.get("title")
    return _Answer(status, twilio_code(payload.get("code")), str(message or _reason(status)))


def _answer(exc: BaseException) -> _Answer | None:
    """The HTTP error answer inside an SDK exception, if there was one."""
    if isinstance(exc, TwilioRestException):
        return _Answer(int(exc.status), twilio_code(exc.code), _clean(str(exc.msg), exc.status))
    if isinstance(exc, TwilioServiceException):  # RFC 9457 problem details
        message = exc.detail or exc.title or _reason(exc.status)
        return _Answer(int(exc.status), twilio_code(exc.code), str(message))
    if isinstance(exc, TwilioException) and len(exc.args) > 1:
        response = exc.args[1]  # Page raises TwilioException("Unable to fetch page", response)
        if isinstance(response, SdkResponse):
            return _answer_from_body(int(response.status_code), response.text)
    return None


def _from_answer(answer: _Answer, exchange: Exchange, *, replayable: bool) -> Failure:
    code, status = answer.code, answer.status
    if status == _RATE_LIMITED_STATUS or code == _RATE_LIMITED_CODE:
        error = GatewayError(
            answer.message, code=code, http_status=status, retryable=True,
            retry_after=exchange.retry_after,
        )  # fmt: skip
        return Failure(error, retry=True, retry_after=exchange.retry_after)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        if not replayable:
            unknown = OutcomeUnknownError(
                f"{answer.message} (the message may have been created: reconcile before "
                "sending again)",
                code=code,
                http_status=status,
            )
            return Failure(unknown, retry=False)
        return Failure(
            GatewayError(answer.message, code=code, http_status=status, retryable=True), True
        )
    return Failure(GatewayError(answer.message, code=code, http_status=status), retry=False)


def _no_answer(what: str, exchange: Exchange, *, replayable: bool) -> Failure:
    if exchange.sent and not replayable:
        unknown = OutcomeUnknownError(
            f"{what} after the request was sent: the message may have been created "
            "(reconcile before sending again)"
        )
        return Failure(unknown, retry=False)
    return Failure(GatewayError(what, retryable=True), retry=True)


def classify(
    exc: BaseException, exchange: Exchange, *, replayable: bool, timeout: float
) -> Failure:
    """The verdict on one failed attempt. `replayable` is False for a create."""
    answer = _answer(exc)
    if answer is not None:
        return _from_answer(answer, exchange, replayable=replayable)
    if isinstance(exc, TimeoutError):  # asyncio.timeout's, or aiohttp's own
        return _no_answer(f"No answer from Twilio within {timeout:g} s", exchange,
                          replayable=replayable)  # fmt: skip
    if isinstance(exc, aiohttp.ClientError | OSError):
        return _no_answer(f"Connection failed: {exc}", exchange, replayable=replayable)
    if isinstance(exc, ValueError) and exchange.status is not None and not replayable:
        # A 2xx whose body was not JSON: Twilio said yes, but not to what.
        return Failure(OutcomeUnknownError("Twilio's answer could not be read"), retry=False)
    return Failure(GatewayError(f"Unexpected answer from Twilio: {exc}"), retry=False)
