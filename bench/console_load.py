"""Load generator for bench/console.py: signed status callbacks at a paced rate.

    python bench/console_load.py SPEC.json RESULT.json

SPEC (written by bench/console.py) names the receiver (host, port, path), the auth token
to sign with, the rate and duration, the load's shape (see `_schedule`), the existing
messages to advance (sid, from, to) and the new SIDs. Every request is built and signed
before the start, so the timed part only writes bytes and reads answers: a minimal
HTTP/1.1 client over asyncio streams, keep-alive. Open loop: each request leaves when it
is due, on an idle connection or on a new one when all are busy, as Twilio's callbacks
do (it does not wait for one answer before sending the next message's callback); at most
`--connections` are opened, past which requests wait and leave late (the achieved rate
and the schedule slip say so).

Protocol with the parent: prints `ready` when built, starts on a line on stdin, writes
RESULT (counts, achieved rate, ack latencies, and the wall-clock send and answer times
of every watched new SID) and exits. Loopback only; bounded by the duration plus a 10 s grace.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any
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


async def read_status(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status code, keep-alive) of one response, its body consumed."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    if length:
        await reader.readexactly(length)
    return status, keep


async def run(
    spec: dict[str, Any], requests: list[bytes], new_at: dict[int, str]
) -> dict[str, Any]:
    host, port, rate = spec["host"], spec["port"], float(spec["rate"])
    cap = int(spec["connections"])
    statuses: dict[int, int] = {}
    errors: list[str] = []
    latencies: list[float] = []
    slips: list[float] = []  # how late each request left, against its schedule
    new_sent: dict[str, float] = {}
    new_acked: dict[str, float] = {}
    due_queue: asyncio.Queue[int] = asyncio.Queue()
    waiting = 0  # connections waiting for a request to send
    busiest = 0  # most requests out at once
    out = 0
    cpu_start = time.process_time()
    start = time.perf_counter() + 0.05
    deadline = start + len(requests) / rate + GRACE

    async def connection() -> None:
        nonlocal waiting, out, busiest
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while True:
            waiting += 1
            i = await due_queue.get()
            waiting -= 1
            if i < 0 or time.perf_counter() > deadline:
                break
            due = start + i / rate
            out += 1
            busiest = max(busiest, out)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                sent = time.perf_counter()
                slips.append(sent - due)
                if i in new_at:
                    new_sent[new_at[i]] = time.time()
                writer.write(requests[i])
                code, keep = await read_status(reader)
                latencies.append(time.perf_counter() - sent)
                if i in new_at:
                    new_acked[new_at[i]] = time.time()
                statuses[code] = statuses.get(code, 0) + 1
                if not keep:
                    writer.close()
                    writer = None
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(type(exc).__name__)
                if writer is not None:
                    writer.close()
                writer = None
            finally:
                out -= 1
        if writer is not None:
            writer.close()

    # Open loop: each request leaves when it is due, whatever the answers to the ones
    # before, as Twilio's callbacks do: on an idle connection, or on a new one when all
    # are busy (up to `connections`; past that, requests wait and leave late).
    tasks: list[asyncio.Task[None]] = []
    for i in range(len(requests)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due_queue.put_nowait(i)
        # Queued requests no waiting connection will take: open one more for this one.
        if due_queue.qsize() > waiting and len(tasks) < cap:
            tasks.append(asyncio.create_task(connection()))
    for _ in tasks:
        due_queue.put_nowait(-1)
    await asyncio.wait(tasks, timeout=max(1.0, deadline - time.perf_counter() + 1))
    for task in tasks:
        task.cancel()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    latencies.sort()
    slips.sort()

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else 0.0

    done = sum(statuses.values())
    return {
        "planned": len(requests),
        "sent": len(slips),
        "answered": done,
        "ok": sum(n for code, n in statuses.items() if 200 <= code < 300),
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "seconds": elapsed,
        "rate": done / elapsed if elapsed else 0.0,
        "ack_p50_ms": pct(latencies, 0.50),
        "ack_p99_ms": pct(latencies, 0.99),
        "ack_mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "slip_p99_ms": pct(slips, 0.99),
        "connections_opened": len(tasks),
        "most_in_flight": busiest,
        "cpu_percent": 100 * cpu / elapsed if elapsed else 0.0,
        "new_sent": new_sent,
        "new_acked": new_acked,
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
