"""What happened on the wire during one call: was the request sent, what came back.

The SDK turns failures into exceptions that lose two facts the retry rules need: whether
the request had left this machine (a create that was never sent can be retried safely; one
that was sent may have happened) and the Retry-After header of a 429. An aiohttp
TraceConfig on the SDK's session records both into the `Exchange` of the call in progress,
found through a ContextVar, so concurrent calls (each in its own task) never mix them up.

Owns `Exchange`, `observe` (start recording one attempt) and `new_http_client`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace

from aiohttp import ClientSession, TraceConfig, TraceRequestEndParams, TraceRequestHeadersSentParams
from twilio.http.async_http_client import AsyncTwilioHttpClient

from .retry import parse_retry_after


@dataclass(slots=True)
class Exchange:
    """One attempt's request and response, as far as they got."""

    sent: bool = False  # the request line and headers were handed to the connection
    status: int | None = None  # the response's HTTP status, once its head arrived
    retry_after: float | None = None


_CURRENT: ContextVar[Exchange | None] = ContextVar("tui_twilio_exchange", default=None)


@contextmanager
def observe() -> Iterator[Exchange]:
    """Record the wire events of the SDK call made inside the `with` block."""
    exchange = Exchange()
    token = _CURRENT.set(exchange)
    try:
        yield exchange
    finally:
        _CURRENT.reset(token)


async def _on_headers_sent(
    session: ClientSession, context: SimpleNamespace, params: TraceRequestHeadersSentParams
) -> None:
    # Fired only once a connection exists and the request is being written: before this,
    # nothing can have reached the server (connection refused, DNS, a connect timeout).
    exchange = _CURRENT.get()
    if exchange is not None:
        exchange.sent = True


async def _on_request_end(
    session: ClientSession, context: SimpleNamespace, params: TraceRequestEndParams
) -> None:
    exchange = _CURRENT.get()
    if exchange is not None:
        exchange.status = params.response.status
        exchange.retry_after = parse_retry_after(params.response.headers.get("Retry-After"))


def _trace_config() -> TraceConfig:
    config = TraceConfig()
    config.on_request_headers_sent.append(_on_headers_sent)
    config.on_request_end.append(_on_request_end)
    return config


def new_http_client() -> AsyncTwilioHttpClient:
    """The SDK's asyncio HTTP client, observed. Call it inside the running loop: it opens
    an aiohttp session. `max_retries` stays unset on purpose: the SDK would then replay a
    create on a 5xx (aiohttp-retry), which can send a message twice."""
    return AsyncTwilioHttpClient(trace_configs=[_trace_config()])
