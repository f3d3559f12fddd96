"""The callback receiver's routes: validate -> commit -> publish -> answer.

POST/GET /message-status   status callbacks (the path of the seed's sample app)
POST/GET /incoming         inbound messages; answers TwiML
GET      /healthz          JSON: uptime, callbacks received and rejected, last callback age

The event loop reads a request, refuses a body over the limit (413), and hands the raw
parts to the store; the media type (415), parsing, the signature check and the facts are
made in the writer process, in the batch that stores them (see webhook.py).

An acknowledgement is a promise: 200 is sent only after the event is committed (group
commit, synchronous=FULL). A storage failure answers 500, so a `#rp=5xx` retry policy can
deliver it again; 429 is never used (Twilio does not back off on it: error 11217).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from yarl import URL

from tui.domain.signature import SIGNATURE_HEADER
from tui.store import EventKind, Store

from .form import MAX_BODY_BYTES
from .request_log import RequestLog
from .verify import SignatureConfig
from .webhook import RawWebhook, WebhookNote, prepare_webhook

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


def seen_origin(request: web.BaseRequest) -> str | None:
    """The scheme and authority of the URL as this server saw it ("http://127.0.0.1:8080"),
    or None when the Host header cannot form one ("x:99999", "a]b"). A target naming its
    own host gets aiohttp's whole URL, whose origin `checked_url` takes.

    Only the origin is used (`checked_url` puts the raw path after it), and nearly every
    request carries the same Host header, so each distinct one is built by yarl once.
    `str(request.url)` per request took 5-10 us alone (this: 1.6-2.4) and 2.6% of the console's
    py-spy samples under bench/console.py's 2,000 callbacks/s (demo mode has no public URL)."""
    target = request.raw_path
    if target[:1] != "/" or target[:2] == "//":  # "http://h/p", "//h/p": name their own host
        try:
            return str(request.url)
        except ValueError:
            return None
    return _origin(request.scheme, request.host)


@functools.lru_cache(maxsize=256)  # bounded: Host headers come from anyone
def _origin(scheme: str, host: str) -> str | None:
    try:
        return str(URL.build(scheme=scheme, authority=host))
    except ValueError:
        return None


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


# The routes: three fixed paths need no router. aiohttp's low-level server (web.Server)
# with this table spends ~10% less CPU per request than an Application with a router
# (bench/ingest.py's CPU probe), and the receiver has nothing else an Application offers.
WEBHOOK_PATHS: dict[str, EventKind] = {
    "/message-status": EventKind.CALLBACK,
    "/incoming": EventKind.INBOUND,
}
HEALTH_PATH = "/healthz"
WEBHOOK_METHODS = ("GET", "POST")
HEALTH_METHODS = ("GET", "HEAD")


def _request_factory(
    message: RawRequestMessage,
    payload: StreamReader,
    protocol: RequestHandler,
    writer: AbstractStreamWriter,
    task: asyncio.Task[None],
) -> web.BaseRequest:
    # The body limit (+1, so that read() of a body just over it raises 413).
    return web.BaseRequest(
        message,
        payload,
        protocol,
        writer,
        task,
        task.get_loop(),
        client_max_size=MAX_BODY_BYTES + 1,
    )


class Receiver:
    def __init__(self, store: Store, config: ReceiverConfig) -> None:
        self.store = store
        self.config = config
        self.stats = ReceiverStats()
        self.requests = RequestLog(log)

    def build_server(self) -> web.Server:
        """The low-level aiohttp server answering every route (see WEBHOOK_PATHS)."""
        return web.Server(self.route, request_factory=_request_factory, access_log=None)

    async def route(self, request: web.BaseRequest) -> web.StreamResponse:
        path, method = request.path, request.method
        kind = WEBHOOK_PATHS.get(path)
        if kind is not None:
            if method in WEBHOOK_METHODS:
                return await self.handle(request, kind)
            return _not_allowed(WEBHOOK_METHODS)
        if path == HEALTH_PATH:
            if method in HEALTH_METHODS:
                return web.json_response(self.stats.health(self.config.signature.validating))
            return _not_allowed(HEALTH_METHODS)
        return web.Response(
            status=404,
            text="Not found: this server answers /message-status, /incoming and /healthz.",
        )

    async def handle(self, request: web.BaseRequest, kind: EventKind) -> web.Response:
        started = time.perf_counter()
        headers = request.headers
        if request.method == "POST":
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return self._refuse(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
            # The header as sent: the writer process reads its media type and refuses
            # anything but a form or JSON (415). aiohttp's parsed content_type cost ~8 us.
            content_type = headers.get("Content-Type", "")
        else:
            body, content_type = b"", ""
        config = self.config
        raw = RawWebhook(
            kind=kind,
            method=request.method,
            content_type=content_type,
            body=body,
            query=request.rel_url.raw_query_string,
            raw_path=request.raw_path,
            seen_origin="" if config.signature.public_url else seen_origin(request),
            signature=headers.get(SIGNATURE_HEADER),
            headers=tuple((h, headers[h]) for h in KEPT_HEADERS if h in headers),
            received_at=time.time(),
            config=config.signature,
            log_body=config.log_bodies,
        )
        try:
            outcome = await self.store.ingest_prepared(prepare_webhook, raw)
        except Exception as exc:  # the promise cannot be kept: let Twilio retry
            self.stats.storage_errors += 1
            log.error("storage failed, answering 500: %s", type(exc).__name__)
            return web.Response(status=500, text="storage unavailable")
        note: WebhookNote = outcome.note
        if outcome.result is None:  # refused in the writer process: nothing was stored
            return self._refuse(note.status, note.message)
        latency_ms = (time.perf_counter() - started) * 1000
        if note.status == 403:
            self.stats.rejected += 1
            self.requests.add(
                logging.WARNING,
                f"rejected {kind.value} sid={loggable(note.sid)} reason={loggable(note.message)}",
            )
            return web.Response(status=403, text="signature rejected")
        self.stats.received += 1
        self.stats.last_callback = time.monotonic()
        body_note = f" body={note.body!r}" if note.body else ""
        self.requests.add(
            logging.INFO,
            f"{kind.value} sid={loggable(note.sid)} status={loggable(note.status_raw)} "
            f"verdict={note.verdict} dup={outcome.result.duplicate} "
            f"latency_ms={latency_ms:.1f}{body_note}",
        )
        if kind is EventKind.INBOUND:
            return web.Response(text=self._twiml(), content_type="text/xml")
        return web.Response(status=200)

    def _refuse(self, status: int, message: str) -> web.Response:
        self.stats.bad_requests += 1
        self.requests.add(logging.INFO, f"refused {status}: {loggable(message)}")
        return web.Response(status=status, text=message)

    def close(self) -> None:
        """Write the log lines still kept."""
        self.requests.flush()

    def _twiml(self) -> str:
        if not self.config.auto_reply:
            return EMPTY_TWIML
        return f"<Response><Message>{escape(self.config.auto_reply)}</Message></Response>"


def _not_allowed(methods: tuple[str, ...]) -> web.Response:
    return web.Response(
        status=405,
        text=f"Method not allowed: use {' or '.join(methods)}.",
        headers={"Allow": ", ".join(methods)},
    )
