"""Load generator for bench/console.py: signed status callbacks at a paced rate.

    python bench/console_load.py SPEC.json RESULT.json

SPEC (written by bench/console.py) names the receiver (host, port, path), the auth token
to sign with, the rate and duration, the load's shape (see `_schedule`), the existing
messages to advance (sid, from, to) and the new SIDs. Every request is built and signed
before the start, so the timed part only writes bytes and reads answers: a minimal
HTTP/1.1 client, one asyncio protocol per keep-alive connection. Open loop: each request
leaves when it is due, on an idle connection or on a new one when all are busy, as
Twilio's callbacks do (it does not wait for one answer before sending the next message's
callback); at most `--connections` are opened, past which requests wait and leave late
(the achieved rate and the schedule slip say so).

Protocol with the parent: prints `ready` when built, starts on a line on stdin, writes
RESULT (counts, achieved rate, ack latencies, and the wall-clock send and answer times
of every watched new SID) and exits. Loopback only; bounded by the duration plus a 10 s grace.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.domain.signature import compute_signature

ACCOUNT = "AC" + "5" * 32
GRACE = 10.0  # seconds past the schedule before giving up on stragglers


def _schedule(
    spec: dict[str, Any], total: int
) -> tuple[list[tuple[str, str, str, str]], dict[int, str]]:
    """(sid, from, to, status) per request, and the watched requests (index -> new SID).

    `scattered`: status updates for the store's existing `sent` messages (`advances`),
    spread through its history, with a new SID announced every `new_every` requests.
    `lifecycle`: every message is new: its `sent`, and `lag` requests later its final
    status (1 in 20 undelivered), as when an application sends at half the callback
    rate; every `new_every`-th new SID is watched.
    """
    new_sids: list[list[str]] = spec["new"]
    every = spec["new_every"]
    watched: dict[int, str] = {}
    plan: list[tuple[str, str, str, str]] = []
    if spec.get("mode") == "lifecycle":
        lag = spec["lag"]
        timed: list[tuple[int, int, str]] = []  # (slot, message, status)
        for k in range(len(new_sids)):
            timed.append((2 * k, k, "sent"))
            timed.append((2 * (k + lag) + 1, k, "undelivered" if k % 20 == 19 else "delivered"))
        timed.sort()
        for i, (_, k, status) in enumerate(timed[:total]):
            sid, sender, to = new_sids[k]
            if status == "sent" and k % every == 0:
                watched[i] = sid
            plan.append((sid, sender, to, status))
        return plan, watched
    advances: list[list[str]] = spec["advances"]
    adv = new = 0
    for i in range(total):
        if i % every == every // 2 and new < len(new_sids):
            sid, sender, to = new_sids[new]
            new += 1
            watched[i] = sid
            plan.append((sid, sender, to, "sent"))
        else:
            sid, sender, to = advances[adv % len(advances)]
            # First pass: sent -> delivered; a second pass (small stores) -> read.
            plan.append((sid, sender, to, "delivered" if adv < len(advances) else "read"))
            adv += 1
    return plan, watched


def build_requests(spec: dict[str, Any]) -> tuple[list[bytes], dict[int, str]]:
    """All requests in send order, and which indexes announce a watched new SID."""
    host, port, path = spec["host"], spec["port"], spec["path"]
    url = f"http://{host}:{port}{path}"
    token = spec["token"]
    total = int(spec["rate"] * spec["seconds"])
    plan, watched = _schedule(spec, total)
    requests: list[bytes] = []
    for i, (sid, sender, to, status) in enumerate(plan):
        params = [
            ("AccountSid", ACCOUNT), ("ApiVersion", "2010-04-01"), ("From", sender),
            ("MessageSid", sid), ("MessageStatus", status), ("SmsSid", sid),
            ("SmsStatus", status), ("To", to),
        ]  # fmt: skip
        if status == "undelivered":
            params.append(("ErrorCode", "30003"))
        body = urlencode(params).encode()
        signature = compute_signature(url, params, token)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\n"
            f"I-Twilio-Idempotency-Token: {sid}-{status}-{i}\r\n"
            "User-Agent: TwilioProxy/1.1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests, watched


def _content_length(head: bytes) -> tuple[int, bool]:
    """(Content-Length, keep-alive) from a response head."""
    length, keep = 0, True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    return length, keep


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request out at a time.

    A protocol rather than asyncio streams: the generator runs on the same two cores as
    the console it measures, and streams cost it about twice the CPU per request (a
    future, a reader task wake-up and two buffer copies per answer). Twilio's load does
    not come out of the console's machine, so the less the generator takes, the closer
    the measurement is to the real thing.
    """

    def __init__(self, load: _Load) -> None:
        self.load = load
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.current = -1  # index of the request awaiting its answer
        self.sent_at = 0.0
        self.need = -1  # bytes of the whole answer, once its head is in
        self.status = 0
        self.keep = True
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, i: int) -> None:
        assert self.transport is not None
        self.current = i
        self.sent_at = self.load.sent(i)
        self.transport.write(self.load.requests[i])

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.current >= 0:
            if self.need < 0:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                try:
                    status = int(self.buffer[: self.buffer.index(b"\r\n")].split()[1])
                    length, self.keep = _content_length(self.buffer[:end])
                except (ValueError, IndexError):
                    self.fail("ValueError")
                    return
                self.status, self.need = status, end + 4 + length
            if len(self.buffer) < self.need:
                return
            self.buffer = self.buffer[self.need :]
            self.need = -1
            i, self.current = self.current, -1
            self.load.answered(i, self.status, self.sent_at)
            if not self.keep:
                self.close()
                return
            self.load.idle(self)

    def fail(self, kind: str) -> None:
        if self.current >= 0:
            self.load.failed(self.current, kind)
            self.current = -1
        self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        if not self.closed:
            self.closed = True
            self.load.gone(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.current >= 0:
            self.fail(type(exc).__name__ if exc else "ConnectionClosed")
        else:
            self.close()


class _Load:
    """Who is free, what is waiting, and every figure the result reports."""

    def __init__(self, spec: dict[str, Any], requests: list[bytes], new_at: dict[int, str]):
        self.host, self.port = spec["host"], spec["port"]
        self.rate = float(spec["rate"])
        self.cap = int(spec["connections"])
        self.requests = requests
        self.new_at = new_at
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        self.latencies: list[float] = []
        self.slips: list[float] = []  # how late each request left, against its schedule
        self.new_sent: dict[str, float] = {}
        self.new_acked: dict[str, float] = {}
        self.free: list[_Connection] = []
        self.waiting: collections.deque[int] = collections.deque()  # due, no connection yet
        self.live: set[_Connection] = set()
        self.opening = 0
        self.opened = 0
        self.out = 0  # requests sent and not answered
        self.busiest = 0
        self.start = 0.0
        self.deadline = 0.0
        self.done = asyncio.Event()
        self.finished = 0

    def sent(self, i: int) -> float:
        now = time.perf_counter()
        self.slips.append(now - (self.start + i / self.rate))
        if i in self.new_at:
            self.new_sent[self.new_at[i]] = time.time()
        self.out += 1
        self.busiest = max(self.busiest, self.out)
        return now

    def answered(self, i: int, status: int, sent_at: float) -> None:
        self.latencies.append(time.perf_counter() - sent_at)
        if i in self.new_at:
            self.new_acked[self.new_at[i]] = time.time()
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self._settled()

    def failed(self, i: int, kind: str, *, sent: bool = True) -> None:
        self.errors.append(kind)
        self._settled(sent)

    def _settled(self, sent: bool = True) -> None:
        if sent:
            self.out -= 1
        self.finished += 1
        if self.finished == len(self.requests):
            self.done.set()

    def idle(self, conn: _Connection) -> None:
        if self.waiting and time.perf_counter() < self.deadline:
            conn.send(self.waiting.popleft())
        else:
            self.free.append(conn)

    def gone(self, conn: _Connection) -> None:
        self.live.discard(conn)
        if conn in self.free:
            self.free.remove(conn)
        # A slot opened up: the next waiting request gets a new connection.
        if self.waiting and len(self.live) + self.opening < self.cap:
            self._open()

    def due(self, i: int) -> None:
        """Request `i` falls due: an idle connection takes it, or a new one, or it waits."""
        if self.free:
            self.free.pop().send(i)
            return
        self.waiting.append(i)
        if len(self.live) + self.opening < self.cap:
            self._open()

    def _open(self) -> None:
        self.opening += 1
        self.opened += 1
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(lambda: _Connection(self), self.host, self.port)
        except OSError as exc:
            self.opening -= 1
            if self.waiting:  # no connection for it: it fails without having left
                self.failed(self.waiting.popleft(), type(exc).__name__, sent=False)
            return
        self.opening -= 1
        self.live.add(conn)
        self.idle(conn)


async def run(
    spec: dict[str, Any], requests: list[bytes], new_at: dict[int, str]
) -> dict[str, Any]:
    load = _Load(spec, requests, new_at)
    rate = load.rate
    cpu_start = time.process_time()
    load.start = start = time.perf_counter() + 0.05
    load.deadline = deadline = start + len(requests) / rate + GRACE
    # Open loop: each request leaves when it is due, whatever the answers to the ones
    # before, as Twilio's callbacks do: on an idle connection, or on a new one when all
    # are busy (up to `connections`; past that, requests wait and leave late). Every
    # request already due goes out before the next sleep, so a late wake-up sends a
    # small burst instead of drifting behind the schedule.
    i = 0
    while i < len(requests):
        now = time.perf_counter()
        while i < len(requests) and start + i / rate <= now:
            load.due(i)
            i += 1
        if i < len(requests):
            # At least a millisecond, the loop's timer resolution: a shorter sleep returns
            # at once, and the loop would spin between requests instead of sleeping.
            await asyncio.sleep(max(0.001, start + i / rate - time.perf_counter()))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load.done.wait(), max(1.0, deadline - time.perf_counter()))
    # Never sent: the console did not keep up within the grace.
    load.errors.extend("NotSent" for _ in load.waiting)
    for conn in list(load.live):
        if conn.transport is not None:
            conn.transport.close()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    latencies = sorted(load.latencies)
    slips = sorted(load.slips)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else 0.0

    statuses = load.statuses
    done = sum(statuses.values())
    return {
        "planned": len(requests),
        "sent": len(slips),
        "answered": done,
        "ok": sum(n for code, n in statuses.items() if 200 <= code < 300),
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": len(load.errors),
        "error_kinds": sorted(set(load.errors)),
        "seconds": elapsed,
        "rate": done / elapsed if elapsed else 0.0,
        "ack_p50_ms": pct(latencies, 0.50),
        "ack_p99_ms": pct(latencies, 0.99),
        "ack_mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "slip_p99_ms": pct(slips, 0.99),
        "connections_opened": load.opened,
        "most_in_flight": load.busiest,
        "cpu_percent": 100 * cpu / elapsed if elapsed else 0.0,
        "new_sent": load.new_sent,
        "new_acked": load.new_acked,
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    requests, new_at = build_requests(spec)
    print("ready", flush=True)
    sys.stdin.readline()  # the parent says go
    try:
        import uvloop  # the cheapest client loop leaves the most CPU to the console
    except ImportError:
        result = asyncio.run(run(spec, requests, new_at))
    else:
        result = uvloop.run(run(spec, requests, new_at))
    Path(sys.argv[2]).write_text(json.dumps(result))
    print("done", flush=True)


if __name__ == "__main__":
    main()
