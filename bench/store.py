"""Store benchmark: fill a database through the real write path, then time the console's reads.

    .venv/bin/python bench/store.py                      # 1,000,000 messages, 3,000,000 events
    .venv/bin/python bench/store.py --messages 50000     # a quick run

Every event goes through Store.ingest (group commit, de-duplication, the domain merge), fed
by `--concurrency` concurrent writers as the receiver would. The anchor, measured in the
same run on the same disk, is stdlib sqlite3 `executemany` into a table of the same shape
with no logic at all: the insert rate is reported as a ratio of it.

Reads are timed through the Store API (aiosqlite hop and row conversion included), warm,
median of `--repeat` runs. Targets (issue 3): newest page < 5 ms, filtered page < 50 ms,
grouped counts < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.domain.facts import facts_from_callback
from tui.domain.status import MessageStatus
from tui.store import (
    EventKind,
    IncomingEvent,
    MessageFilter,
    SignatureVerdict,
    Store,
)

S = MessageStatus
WORDS = (
    "order", "pizza", "tacos", "ready", "pickup", "your", "code", "is", "delivery", "driver",
    "arriving", "soon", "thanks",
)  # fmt: skip
# (final status, share, error codes): a plausible mix for a busy sender.
OUTCOMES = [
    ("delivered", 0.80, []),
    ("undelivered", 0.08, ["30003", "30005", "30006", "30007", "30008"]),
    ("failed", 0.04, ["30007", "30034", "21610", "30032"]),
    ("sent", 0.05, []),
    ("read", 0.03, []),
]
PATHS = {
    "delivered": ["queued", "sent", "delivered"],
    "undelivered": ["queued", "sent", "undelivered"],
    "failed": ["accepted", "queued", "failed"],
    "sent": ["queued", "sending", "sent"],
    "read": ["sent", "delivered", "read"],
}


def make_events(n_messages: int, seed: int, start: float, span: float) -> list[IncomingEvent]:
    rnd = random.Random(seed)
    finals = [o[0] for o in OUTCOMES]
    weights = [o[1] for o in OUTCOMES]
    errors = {o[0]: o[2] for o in OUTCOMES}
    events: list[IncomingEvent] = []
    for i in range(n_messages):
        final = rnd.choices(finals, weights)[0]
        sid = f"SM{rnd.getrandbits(128):032x}"
        at = start + span * i / n_messages
        base = [
            ("MessageSid", sid),
            ("AccountSid", "AC" + "0" * 32),
            ("To", f"+1415555{rnd.randrange(10000):04d}"),
            ("From", "+14155550111"),
            ("ApiVersion", "2010-04-01"),
        ]
        for step, status in enumerate(PATHS[final]):
            params = [*base, ("MessageStatus", status), ("SmsStatus", status)]
            if status == final and errors[final]:
                params.append(("ErrorCode", rnd.choice(errors[final])))
            if step == 0:
                # Common words, plus an order code that is (nearly) unique: the two
                # extremes of what a person searches for.
                words = rnd.choices(WORDS, k=rnd.randrange(3, 12))
                body = " ".join([*words, f"ref{rnd.randrange(10**7):07d}"])
                params.append(("Body", body))
            events.append(
                IncomingEvent(
                    kind=EventKind.CALLBACK,
                    facts=facts_from_callback(params),
                    params=tuple(params),
                    received_at=at + step,
                    signature=SignatureVerdict.VALID,
                    idempotency_token=f"{sid}-{step}",
                )
            )
    # Callbacks of neighbouring messages interleave, and a few arrive out of order.
    for j in range(0, len(events) - 1, 7):
        events[j], events[j + 1] = events[j + 1], events[j]
    return events


async def fill(store: Store, events: list[IncomingEvent], concurrency: int) -> float:
    queue = iter(events)

    async def writer() -> None:
        for event in queue:
            await store.ingest(event)

    t0 = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    return time.perf_counter() - t0


def raw_sqlite_anchor(directory: Path, rows: int) -> float:
    """Rows/s for plain executemany into an events-shaped table with the same indexes."""
    path = directory / "anchor.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, kind, received_at, message_sid, "
        "status, signature, idempotency_token, content_hash, params, headers)"
    )
    conn.execute("CREATE INDEX e1 ON events (message_sid)")
    conn.execute("CREATE UNIQUE INDEX e2 ON events (idempotency_token)")
    conn.execute("CREATE UNIQUE INDEX e3 ON events (content_hash)")
    rnd = random.Random(1)
    data = [
        (
            "callback",
            float(i),
            f"SM{rnd.getrandbits(128):032x}",
            "sent",
            "valid",
            f"t{rnd.getrandbits(64)}",
            f"{rnd.getrandbits(256):064x}",
            '[["MessageSid","SM..."],["MessageStatus","sent"]]',
            "[]",
        )
        for i in range(rows)
    ]
    t0 = time.perf_counter()
    for k in range(0, rows, 500):  # the writer's batch size
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events (kind, received_at, message_sid, status, signature, "
            "idempotency_token, content_hash, params, headers) VALUES (?,?,?,?,?,?,?,?,?)",
            data[k : k + 500],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return rows / elapsed


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    result = await fn()  # warm-up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), result


def size_on_disk(path: Path) -> int:
    return sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--dir", type=Path, default=None, help="where to put the database")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()

    directory = Path(args.dir or tempfile.mkdtemp(prefix="msgwatch-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "bench.db"
    ours = ("bench.db", "anchor.db")

    def remove_ours() -> None:
        for name in ours:
            for suffix in ("", "-wal", "-shm", "-journal"):
                (directory / f"{name}{suffix}").unlink(missing_ok=True)

    remove_ours()  # a killed run leaves its files behind
    asyncio.run(run(args, directory, db))
    if not args.keep:
        remove_ours()


async def run(args: argparse.Namespace, directory: Path, db: Path) -> None:

    print(f"# bench/store.py  messages={args.messages:,}  concurrency={args.concurrency}")
    print(
        f"# python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpus"
    )
    anchor_rows = min(200_000, 3 * args.messages)
    anchor = raw_sqlite_anchor(directory, anchor_rows)
    print(f"anchor: raw sqlite3 executemany, 3 indexes, batches of 500: {anchor:,.0f} rows/s")

    now = datetime(2026, 11, 1, tzinfo=UTC)
    start = (now - timedelta(days=30)).timestamp()
    chunk = 100_000  # generate in chunks to keep memory flat
    total_events = 0
    fill_seconds = 0.0
    async with await Store.open(db) as store:
        for k in range(0, args.messages, chunk):
            n = min(chunk, args.messages - k)
            events = make_events(n, seed=k, start=start + k * 2.5, span=n * 2.5)
            total_events += len(events)
            fill_seconds += await fill(store, events, args.concurrency)
            rate = total_events / fill_seconds
            print(f"  ... {k + n:>9,} messages, {total_events:>9,} events, {rate:,.0f} events/s",
                  flush=True)  # fmt: skip
        batches, ops, largest = store.write_stats
        rate = total_events / fill_seconds
        print(f"insert: {total_events:,} events via Store.ingest in {fill_seconds:.1f} s = "
              f"{rate:,.0f} events/s ({rate / anchor:.2f}x the raw anchor); {batches:,} "
              f"commits, mean batch {ops / batches:.0f}, largest {largest}")  # fmt: skip

        # One lone writer: what a single callback waits for at low traffic.
        lone = []
        for i in range(200):
            ev = make_events(1, seed=10**9 + i, start=now.timestamp(), span=1)[0]
            t0 = time.perf_counter()
            await store.ingest(ev)
            lone.append((time.perf_counter() - t0) * 1000)
        lone.sort()
        print(f"lone write (ack latency, 200 sequential): p50 {lone[100]:.2f} ms, "
              f"p99 {lone[197]:.2f} ms")  # fmt: skip

    size = size_on_disk(db)
    print(f"size on disk: {size / 2**20:,.0f} MiB "
          f"({size / total_events:,.0f} bytes per event, message share included)")  # fmt: skip

    async with await Store.open(db) as store:
        counts = await store.count_by_status()
        print("messages by status: " + ", ".join(f"{s}={n:,}" for s, n in counts.items()))
        first = await store.page(limit=200)
        deep = first
        for _ in range(50):
            assert deep.next_cursor is not None
            deep = await store.page(after=deep.next_cursor, limit=200)
        cursor = deep.next_cursor
        rare_code = next(w for w in (deep.rows[7].body or "").split() if w.startswith("ref"))
        problems = MessageFilter(statuses=frozenset({S.FAILED, S.UNDELIVERED}))
        last_day = MessageFilter(since=now - timedelta(days=1))
        cases: list[tuple[str, Callable[[], Awaitable[Any]], float]] = [
            ("newest page of 200", lambda: store.page(limit=200), 5),
            ("page 51 of 200 (keyset)", lambda: store.page(after=cursor, limit=200), 5),
            ("status page: undelivered", lambda: store.page(
                MessageFilter(statuses=frozenset({S.UNDELIVERED})), limit=200), 50),
            ("status page: failed+undelivered", lambda: store.page(problems, limit=200), 50),
            ("error-code page: 30007", lambda: store.page(
                MessageFilter(error_codes=frozenset({30007})), limit=200), 50),
            ("to-number page", lambda: store.page(
                MessageFilter(to_addr="+14155550042"), limit=200), 50),
            ("text search page: 'driver arriving' (common words)", lambda: store.page(
                MessageFilter(text="driver arriving"), limit=200), 50),
            ("text search page: 'pizza' (in ~40% of bodies)", lambda: store.page(
                MessageFilter(text="pizza"), limit=200), 50),
            ("text search page: an order code (rare)", lambda: store.page(
                MessageFilter(text=rare_code), limit=200), 50),
            ("counts by status (all)", store.count_by_status, 100),
            ("counts by error code (all)", store.count_by_error, 100),
            ("counts by error code (last 24 h)", lambda: store.count_by_error(last_day), 100),
            ("in flight > 12 h (first 1000)", lambda: store.in_flight_older_than(now), 100),
        ]  # fmt: skip
        print(f"\n| query | median ms ({args.repeat} runs, warm) | target ms | rows |")
        print("|---|---|---|---|")
        for name, fn, target in cases:
            ms, result = await timed(fn, args.repeat)
            rows = len(result.rows) if hasattr(result, "rows") else len(result)
            mark = "ok" if ms < target else "OVER"
            print(f"| {name} | {ms:.2f} | < {target} ({mark}) | {rows} |")


if __name__ == "__main__":
    main()
