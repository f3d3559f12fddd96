"""The callback receiver's routes: validate -> commit -> publish -> answer.

POST/GET /message-status   status callbacks (the path of the seed's sample app)
POST/GET /incoming         inbound messages; answers TwiML
GET      /healthz          JSON: uptime, callbacks received and rejected, last callback age

An acknowledgement is a promise: 200 is sent only after the event is committed (group
commit, synchronous=FULL). A storage failure answers 500, so a `#rp=5xx` retry policy can
deliver it again; 429 is never used (Twilio does not back off on it: error 11217).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from xml.sax.saxutils import escape

from aiohttp import web

from tui.domain.facts import facts_from_callback, first
from tui.store import EventKind, IncomingEvent, Store

from .form import MAX_BODY_BYTES, BadRequest, read_webhook
from .verify import SignatureConfig, checked_url, verify

log = logging.getLogger("msgwatch.receiver")

EMPTY_TWIML = "<Response></Response>"
# Headers worth keeping with the event: they explain retries and signing, and hold no secret.
KEPT_HEADERS = (
    "I-Twilio-Idempotency-Token",
    "X-Twilio-Webhooks-Signature-Settings",
    "X-Home-Region",
    "User-Agent",
    "Content-Type",
)


def loggable(value: str | None) -> str | None:
    """An untrusted value as one inert log token: printable ASCII as it is, anything else
    escaped (`ascii()`), so a request, signed or not, cannot write escape sequences (an
    OSC 52 clipboard write) or forged lines into a log `msgwatch serve` prints to a
    terminal."""
    if value is None or (value.isascii() and value.isprintable()):
        return value
    return ascii(value)


@dataclass
class ReceiverStats:
    started: float = field(default_factory=time.monotonic)
    received: int = 0  # acknowledged callbacks and inbound messages
    rejected: int = 0  # refused for their signature
    bad_requests: int = 0  # refused as malformed (4xx other than 403)
    storage_errors: int = 0
    last_callback: float | None = None  # monotonic time of the last acknowledged one

    def health(self, validating: bool) -> dict[str, object]:
        now = time.monotonic()
        age = None if self.last_callback is None else round(now - self.last_callback, 3)
        return {
            "status": "ok",
            "uptime_s": round(now - self.started, 3),
            "callbacks_received": self.received,
            "rejected": self.rejected,
            "bad_requests": self.bad_requests,
            "storage_errors": self.storage_errors,
            "last_callback_age_s": age,
            "validating_signatures": validating,
        }


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    signature: SignatureConfig
    auto_reply: str | None = None  # TwiML <Message> answered to inbound messages
    log_bodies: bool = False  # message bodies in log lines only when asked


RECEIVER_KEY: web.AppKey[Receiver] = web.AppKey("receiver")


class Receiver:
    def __init__(self, store: Store, config: ReceiverConfig) -> None:
        self.store = store
        self.config = config
        self.stats = ReceiverStats()

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES + 1)
        app[RECEIVER_KEY] = self
        for path, kind in (
            ("/message-status", EventKind.CALLBACK),
            ("/incoming", EventKind.INBOUND),
        ):
            handler = self._handler(kind)
            app.router.add_post(path, handler)
            app.router.add_get(path, handler)
        app.router.add_get("/healthz", self.healthz)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.health(self.config.signature.validating))

    def _handler(self, kind: EventKind) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            return await self.handle(request, kind)

        return handle

    async def handle(self, request: web.Request, kind: EventKind) -> web.Response:
        started = time.perf_counter()
        try:
            body = await request.read() if request.method == "POST" else b""
            webhook = read_webhook(
                request.method, request.content_type, body, request.rel_url.raw_query_string
            )
        except web.HTTPRequestEntityTooLarge:
            return self._refuse(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
        except BadRequest as exc:
            return self._refuse(exc.status, exc.message)

        public = self.config.signature.public_url
        try:
            # str(request.url) builds a yarl URL: only worth it when there is no public URL.
            seen = public if public else str(request.url)
            url = checked_url(public, seen, request.raw_path)
        except ValueError:
            # A Host header no URL can hold ("x:99999", "a]b"): no signature can match the
            # bare path, so the request is rejected (and kept) like any other forgery.
            url = request.raw_path
        verdict = verify(self.config.signature, webhook, request.headers, url)
        params = webhook.fields
        headers = tuple((h, request.headers[h]) for h in KEPT_HEADERS if h in request.headers)
        facts = facts_from_callback(params)
        if kind is EventKind.INBOUND and facts.status_raw is None:
            # An inbound webhook is a received message even when SmsStatus is left out.
            facts = replace(facts, status_raw="received", direction="inbound")
        event = IncomingEvent(
            kind=kind,
            facts=facts,
            params=params,
            received_at=time.time(),
            signature=verdict.verdict,
            # An empty ?lid= is no local id: stored as "", a second one broke the unique
            # index (a 500 Twilio would retry for ever).
            local_id=request.rel_url.query.get("lid") or None,
            headers=headers,
            idempotency_token=request.headers.get("I-Twilio-Idempotency-Token"),
            rejected_reason=verdict.reason,
            checked_url=url,
        )
        if verdict.accepted:
            problem = self._missing_fields(kind, event)
            if problem:
                return self._refuse(400, problem)
        try:
            result = await self.store.ingest(event)
        except Exception as exc:  # the promise cannot be kept: let Twilio retry
            self.stats.storage_errors += 1
            log.error("storage failed, answering 500: %s", type(exc).__name__)
            return web.Response(status=500, text="storage unavailable")
        latency_ms = (time.perf_counter() - started) * 1000
        if not verdict.accepted:
            self.stats.rejected += 1
            log.warning(
                "rejected %s sid=%s reason=%s",
                kind.value, loggable(facts.sid), loggable(verdict.reason),
            )  # fmt: skip
            return web.Response(status=403, text="signature rejected")
        self.stats.received += 1
        self.stats.last_callback = time.monotonic()
        body_note = f" body={facts.body!r}" if self.config.log_bodies and facts.body else ""
        log.info(
            "%s sid=%s status=%s verdict=%s dup=%s latency_ms=%.1f%s",
            kind.value, loggable(facts.sid), loggable(facts.status_raw), verdict.verdict.value,
            result.duplicate, latency_ms, body_note,
        )  # fmt: skip
        if kind is EventKind.INBOUND:
            return web.Response(text=self._twiml(), content_type="text/xml")
        return web.Response(status=200)

    def _missing_fields(self, kind: EventKind, event: IncomingEvent) -> str | None:
        if not event.facts.sid:
            return "MessageSid is missing."
        if (
            kind is EventKind.CALLBACK
            and not first(event.params, "MessageStatus")
            and not first(event.params, "SmsStatus")
        ):
            return "MessageStatus is missing."
        return None

    def _refuse(self, status: int, message: str) -> web.Response:
        self.stats.bad_requests += 1
        log.info("refused %d: %s", status, loggable(message))
        return web.Response(status=status, text=message)

    def _twiml(self) -> str:
        if not self.config.auto_reply:
            return EMPTY_TWIML
        return f"<Response><Message>{escape(self.config.auto_reply)}</Message></Response>"
