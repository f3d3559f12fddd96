"""Delivering webhooks the way Twilio does: signed, with an idempotency token, honouring
the connection overrides in the URL fragment, and logging every attempt.

Connection overrides (docs: webhooks-connection-overrides), in the fragment `#k=v&k=v`:
ct connect timeout ms (default 5000), rt read timeout ms (15000), tt total ms (15000),
rc retry count 0-5 (1), rp retry policy of 4xx / 5xx / ct / rt / all (ct). So by default
Twilio retries once, and only when it could not connect. The fragment is not signed.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp

from tui.domain.signature import Algorithm, compute_signature, signature_settings_header

MAX_LOG = 10_000  # deliveries kept for GET /_emulator/deliveries


@dataclass(frozen=True, slots=True)
class Overrides:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 15.0
    retries: int = 1
    policy: frozenset[str] = frozenset({"ct"})


def _clamp_ms(raw: str | None, low: int, high: int, default: int) -> float:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = default
    return min(max(value, low), high) / 1000


def parse_overrides(fragment: str) -> Overrides:
    """The documented keys with their documented ranges; anything else is ignored."""
    values = dict(parse_qsl(fragment, keep_blank_values=True))
    try:
        retries = min(max(int(values.get("rc", "1")), 0), 5)
    except ValueError:
        retries = 1
    policy = frozenset(p.strip() for p in values.get("rp", "ct").split(",") if p.strip())
    return Overrides(
        connect_timeout=_clamp_ms(values.get("ct"), 100, 10_000, 5_000),
        read_timeout=_clamp_ms(values.get("rt"), 100, 15_000, 15_000),
        total_timeout=_clamp_ms(values.get("tt"), 100, 15_000, 15_000),
        retries=retries,
        policy=policy or frozenset({"ct"}),
    )


@dataclass(slots=True)
class Delivery:
    """One attempt to deliver one webhook, as GET /_emulator/deliveries shows it."""

    id: int
    kind: str  # "status" or "inbound"
    url: str
    params: list[tuple[str, str]]
    idempotency_token: str
    attempt: int
    status: int | None = None  # HTTP status, None if no answer
    error: str | None = None  # "connect", "timeout", or what went wrong
    latency_ms: float | None = None
    at: float = field(default_factory=time.time)
    response_body: str | None = None
    dropped: bool = False  # the scenario chose not to send it

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["params"] = [list(p) for p in self.params]
        return data


class CallbackSender:
    """Sends webhooks from one aiohttp session, made in the running loop."""

    def __init__(self, algorithm: Algorithm = Algorithm.HMAC_SHA1) -> None:
        self.algorithm = algorithm
        self.log: deque[Delivery] = deque(maxlen=MAX_LOG)
        self._next_id = 0
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": "TwilioProxy/1.1"}, auto_decompress=True
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _record(self, **kwargs: Any) -> Delivery:
        self._next_id += 1
        delivery = Delivery(id=self._next_id, **kwargs)
        self.log.append(delivery)
        return delivery

    def record_dropped(self, kind: str, url: str, params: Sequence[tuple[str, str]]) -> None:
        self._record(
            kind=kind, url=url, params=list(params), idempotency_token="", attempt=0,
            dropped=True,
        )  # fmt: skip

    async def send(
        self,
        kind: str,
        url: str,
        params: Sequence[tuple[str, str]],
        key: str,
        *,
        token: str | None = None,
    ) -> Delivery | None:
        """POST `params` to `url` until it succeeds or the overrides say stop; returns the
        last attempt. `token` repeats an earlier delivery's idempotency token (a duplicate)."""
        if self._session is None:
            raise RuntimeError("CallbackSender.start() was not awaited")
        parts = urlsplit(url)
        target = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        overrides = parse_overrides(parts.fragment)
        idempotency = token or secrets.token_hex(16)
        # Twilio drops user:pass@ before signing, and never signs the fragment.
        host = parts.netloc.rpartition("@")[2]
        signed_url = urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
        headers = {
            "X-Twilio-Signature": compute_signature(signed_url, params, key, self.algorithm),
            "I-Twilio-Idempotency-Token": idempotency,
            "X-Home-Region": "us1",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if self.algorithm is not Algorithm.HMAC_SHA1:
            headers["X-Twilio-Webhooks-Signature-Settings"] = signature_settings_header(
                self.algorithm
            )
        deadline = time.monotonic() + overrides.total_timeout
        last: Delivery | None = None
        for attempt in range(1, overrides.retries + 2):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            last, failure = await self._attempt(
                kind, target, params, headers, idempotency, attempt, overrides, remaining
            )
            if failure is None or not ({failure, "all"} & overrides.policy):
                break
        return last

    async def _attempt(
        self,
        kind: str,
        url: str,
        params: Sequence[tuple[str, str]],
        headers: dict[str, str],
        idempotency: str,
        attempt: int,
        overrides: Overrides,
        remaining: float,
    ) -> tuple[Delivery, str | None]:
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(
            total=remaining,
            sock_connect=overrides.connect_timeout,
            sock_read=overrides.read_timeout,
        )
        started = time.perf_counter()
        delivery = self._record(
            kind=kind, url=url, params=list(params), idempotency_token=idempotency,
            attempt=attempt,
        )  # fmt: skip
        failure: str | None = None
        try:
            async with self._session.post(
                url, data=list(params), headers=headers, timeout=timeout, allow_redirects=False
            ) as resp:
                delivery.status = resp.status
                delivery.response_body = (await resp.text(errors="replace"))[:2000]
                if 400 <= resp.status < 500:
                    failure = "4xx"
                elif resp.status >= 500:
                    failure = "5xx"
        except (aiohttp.ClientConnectorError, aiohttp.ServerTimeoutError) as exc:
            connect = isinstance(exc, aiohttp.ClientConnectorError) or "connect" in str(exc)
            failure = "ct" if connect else "rt"
            delivery.error = "connect" if connect else "timeout"
        except TimeoutError:
            failure, delivery.error = "rt", "timeout"
        except aiohttp.ClientError as exc:
            failure, delivery.error = "rt", type(exc).__name__
        delivery.latency_ms = (time.perf_counter() - started) * 1000
        return delivery, failure
