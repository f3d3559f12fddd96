"""Soak test: the console for `--minutes` under chaos demo traffic plus external callbacks.

    .venv/bin/python bench/soak.py                    # 10 minutes at 500 callbacks/s
    .venv/bin/python bench/soak.py --minutes 0.5      # a short run while developing
    .venv/bin/python bench/soak.py --out /tmp/soak.json

What runs: one console in a fresh child process, headless (`MsgwatchApp.run_test`,
120x40), in demo mode with the `chaos` scenario and demo traffic on, so the local Twilio's
carrier posts signed callbacks that arrive out of order, twice, or never (scenarios.py)
to the console's embedded receiver. On top of that, bench/console_load.py posts signed
status callbacks at `--rate` to the same receiver, in rounds of `--round-seconds` (each
round a fresh generator process with a fresh spec: it prebuilds every request in memory,
so one 300,000-request spec would cost the machine hundreds of MB). The next round's
generator is built while the current one runs, so the gap between rounds is a pipe write.

The external callbacks are about synthetic SIDs: before the load, `pool` SIDs are
ingested as `sent` through the store's own API; each round then advances the SIDs the
previous round announced (`sent` -> `delivered`) and announces as many new ones (`sent`)
with `--new-every 2`, so every callback changes a row and the store grows by ~rate/2 rows
per second, as a real account's history does.

What it reports (JSON and a markdown table to paste into docs/BENCHMARKS.md):
- RSS (VmRSS) of the console process and of the store's writer process every 10 s from the
  start of the load; the first `--warmup` seconds of load are warm-up, the sample after it
  is the baseline; growth per minute is the least-squares slope of the later samples (the
  writer's SQLite page cache, 64 MiB, fills during the first minutes: growth up to there
  is the cache, not a leak); Python's allocated blocks beside it;
- event-loop lag: a task in the console's loop sleeps 50 ms in a loop and records how late
  it wakes; p50/p99/max overall and per minute, the worst wake-ups and when, and the same
  probe for 10 s before the load (demo traffic only) as an anchor;
- the cyclic garbage collector's full passes (gc.callbacks): how many, wall and CPU time,
  per minute, since a full pass stops the loop for its whole length;
- callbacks of the external load: sent, acknowledged (200), non-2xx, errors, achieved rate
  and ack latency per round;
- CPU seconds of the console and writer processes (during the load, and in total);
- final consistency: after the load, the demo traffic is stopped (between two sends, so
  no create is cut in half), the local Twilio is given up to 60 s to bring its messages to
  final statuses, then every message in the emulator's book is compared with the store's
  row for its SID. Every callback the carrier sent, dropped or repeated is recorded (by
  wrapping `CallbackSender.send` and `.record_dropped` in this process: nothing under tui/
  is changed), so each mismatch is classified: "explained" when the emulator's final status
  was only ever carried by a dropped callback and the store holds exactly the merge of what
  was acknowledged (demo mode runs no reconciler and no poller, so nothing repairs a drop),
  otherwise unexplained; a message still in flight when the wait ran out is reported as
  in transit. The synthetic rows are counted by status against the plan.

Exit status: 0; 1 when the console's RSS grew by more than 50% from the baseline to the
end of the load, when a store/emulator mismatch or missing row is not explained by chaos,
or when acknowledged synthetic callbacks are missing from the store; 2 when the console
process failed or ran out of time. Everything is bounded in time: the child is killed
(its process group, which holds the load generators too) past its deadline.

Caveats: the bench's own per-round work (a few thousand SIDs, a spec file) runs in the
console process and is freed each round; the load generator and the console share the
machine's 2 cores, so on a busy machine the achieved rate says what the console got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.console import (  # noqa: E402
    console_options,
    cpu_seconds,
    log_like_the_console,
    memory,
    percentile,
    phone,
)
from tui.domain.status import IN_FLIGHT, MessageStatus, merge_all  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tui.app import MsgwatchApp
    from tui.emulator.callbacks import CallbackSender, Delivery
    from tui.services.lifecycle import Draft, SendResult
    from tui.store import Store

WORK_DIR = Path("/tmp/msgwatch-soak")
SAMPLE_EVERY = 10.0  # seconds between RSS/CPU samples
LAG_SLEEP = 0.05  # the lag probe's sleep
FINAL_WAIT = 60.0  # seconds the local Twilio gets to finish its messages
IDLE_LAG_SECONDS = 10.0  # lag measured before the load, demo traffic only
RSS_GROWTH_LIMIT = 0.5  # fail past +50% from the post-warm-up sample
# Synthetic SIDs share a prefix, so they can be counted in the store and never collide
# with the emulator's random ones (a 1 in 16**8 chance per emulated message).
SYNTH_PREFIX = "SM5050feed"
SENDER = "+14155550111"


# --- the carrier's callbacks, as sent -------------------------------------------------


@dataclass
class SidLedger:
    """What the carrier did with one message's webhooks."""

    acked: list[str] = field(default_factory=list)  # statuses answered 2xx
    dropped: list[str] = field(default_factory=list)  # chosen by chaos not to be sent
    failed: list[str] = field(default_factory=list)  # sent, not answered 2xx (last attempt)


class CallbackLedger:
    """Every webhook the local Twilio sent or dropped, per SID (bounded by the number of
    emulated messages: about one per second of demo traffic)."""

    def __init__(self) -> None:
        self.sids: dict[str, SidLedger] = {}
        self.sent = 0
        self.duplicates = 0
        self.dropped = 0
        self.not_acked = 0
        self.answers: dict[str, int] = {}  # HTTP status (or error) -> count

    def _entry(self, params: Sequence[tuple[str, str]]) -> tuple[SidLedger, str]:
        values = dict(params)
        sid = values.get("MessageSid", "")
        status = values.get("MessageStatus") or values.get("SmsStatus") or ""
        return self.sids.setdefault(sid, SidLedger()), status

    def on_dropped(self, params: Sequence[tuple[str, str]]) -> None:
        entry, status = self._entry(params)
        entry.dropped.append(status)
        self.dropped += 1

    def on_sent(
        self, params: Sequence[tuple[str, str]], delivery: Delivery | None, duplicate: bool
    ) -> None:
        entry, status = self._entry(params)
        self.sent += 1
        self.duplicates += duplicate
        code = delivery.status if delivery is not None else None
        key = str(code) if code is not None else (delivery.error if delivery else None) or "none"
        self.answers[key] = self.answers.get(key, 0) + 1
        if code is not None and 200 <= code < 300:
            entry.acked.append(status)
        else:
            entry.failed.append(status)
            self.not_acked += 1


def install_ledger(ledger: CallbackLedger) -> None:
    """Wrap the emulator's webhook sender (class-level, in this process only)."""
    from tui.emulator.callbacks import CallbackSender

    send = CallbackSender.send
    record_dropped = CallbackSender.record_dropped

    async def ledgered_send(
        self: CallbackSender,
        kind: str,
        url: str,
        params: Sequence[tuple[str, str]],
        key: str,
        *,
        token: str | None = None,
    ) -> Delivery | None:
        delivery = await send(self, kind, url, params, key, token=token)
        ledger.on_sent(params, delivery, duplicate=token is not None)
        return delivery

    def ledgered_dropped(
        self: CallbackSender, kind: str, url: str, params: Sequence[tuple[str, str]]
    ) -> None:
        record_dropped(self, kind, url, params)
        ledger.on_dropped(params)

    CallbackSender.send = ledgered_send  # type: ignore[method-assign]
    CallbackSender.record_dropped = ledgered_dropped  # type: ignore[method-assign]


# --- probes in the console's loop -------------------------------------------------------


class Background:
    """A sampling loop (`_run`) started and stopped with the run."""

    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        raise NotImplementedError


class LagProbe(Background):
    """How late `asyncio.sleep(0.05)` wakes, with when (seconds since `t0`)."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.at = array("d")
        self.lag_ms = array("d")

    async def _run(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(LAG_SLEEP)
            now = time.perf_counter()
            self.at.append(now - self.t0)
            self.lag_ms.append((now - t - LAG_SLEEP) * 1000)


class GcProbe:
    """Durations of the cyclic garbage collector's passes in this process: a full
    (generation 2) pass over a Textual app's objects stops the loop, and is one suspect
    when the lag probe sees a spike."""

    def __init__(self) -> None:
        self._started = 0.0
        self._cpu = 0.0
        self.t0 = time.perf_counter()
        self.reset()

    def reset(self) -> None:
        # Running totals per generation, not a list: young passes run thousands of times
        # a minute, and a growing list would be growth the bench itself adds to the RSS.
        import gc

        self.passes = [0, 0, 0]
        self.stats0 = gc.get_stats()  # per generation: collections, collected, uncollectable
        self.total_ms = [0.0, 0.0, 0.0]
        self.max_ms = [0.0, 0.0, 0.0]
        self.over_50ms = [0, 0, 0]
        # Full passes are rare (a few a second at most): each one kept, with its CPU time
        # (thread_time) beside the wall time, since the machine is shared.
        self.full: list[tuple[float, float, float, int]] = []  # (t, wall ms, cpu ms, freed)
        self.t0 = time.perf_counter()

    def install(self) -> None:
        import gc

        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            self._cpu = time.thread_time()
            return
        g = info["generation"]
        now = time.perf_counter()
        ms = (now - self._started) * 1000
        if g == 2:
            cpu = (time.thread_time() - self._cpu) * 1000
            self.full.append((now - self.t0, ms, cpu, info["collected"]))
        self.passes[g] += 1
        self.total_ms[g] += ms
        self.max_ms[g] = max(self.max_ms[g], ms)
        self.over_50ms[g] += ms > 50

    def summary(self) -> dict[str, Any]:
        import gc

        now = gc.get_stats()
        per_minute: dict[int, list[tuple[float, float, float, int]]] = {}
        for full in self.full:
            per_minute.setdefault(int(full[0] // 60), []).append(full)
        summary: dict[str, Any] = {
            "full_per_minute": [
                {
                    "minute": m,
                    "passes": len(v),
                    "mean_wall_ms": round(statistics.fmean(x[1] for x in v), 1),
                    "mean_cpu_ms": round(statistics.fmean(x[2] for x in v), 1),
                    "max_wall_ms": round(max(x[1] for x in v), 1),
                    "freed_per_pass": round(statistics.fmean(x[3] for x in v)),
                }
                for m, v in sorted(per_minute.items())
            ]
        }
        return summary | {
            f"gen{g}": {
                "passes": self.passes[g],
                # Objects freed by this generation's passes: cyclic garbage that lived long
                # enough to reach it (what makes full passes frequent).
                "collected": now[g]["collected"] - self.stats0[g]["collected"],
                "uncollectable": now[g]["uncollectable"] - self.stats0[g]["uncollectable"],
                "total_ms": round(self.total_ms[g], 1),
                "max_ms": round(self.max_ms[g], 1),
                "over_50ms": self.over_50ms[g],
            }
            for g in range(3)
        }


class Sampler(Background):
    """RSS and CPU of the console and the writer process every SAMPLE_EVERY seconds."""

    def __init__(self, t0: float, writer_pid: int, app: MsgwatchApp) -> None:
        self.t0 = t0
        self.writer_pid = writer_pid
        self.app = app
        self.samples: list[dict[str, float]] = []

    def sample(self) -> dict[str, float]:
        rss, hwm = memory()
        w_rss, w_hwm = memory(self.writer_pid)
        receiver = self.app.session.receiver
        s = {
            "t": time.perf_counter() - self.t0,
            "rss": rss,
            # Python's live small-object count: flat RSS with growing blocks (or the
            # reverse) tells a Python-level leak from allocator or SQLite growth.
            "blocks": sys.getallocatedblocks(),
            "hwm": hwm,
            "writer_rss": w_rss,
            "writer_hwm": w_hwm,
            "cpu": cpu_seconds(),
            "writer_cpu": cpu_seconds(self.writer_pid),
            "received": receiver.stats.received if receiver else 0,
        }
        self.samples.append(s)
        return s

    async def _run(self) -> None:
        n = 1
        while True:
            await asyncio.sleep(max(0.0, self.t0 + n * SAMPLE_EVERY - time.perf_counter()))
            self.sample()
            n += 1


# --- the external load -------------------------------------------------------------------


def round_lengths(seconds: float, each: float) -> list[float]:
    """Rounds of `each` seconds covering `seconds`; a tail under 10 s joins the last."""
    lengths: list[float] = []
    left = seconds
    while left > 1e-9:
        take = min(each, left)
        if lengths and take < 10.0:
            lengths[-1] += take
        else:
            lengths.append(take)
        left -= take
    return lengths


def split_slots(total: int, every: int) -> tuple[int, int]:
    """(new, advance) slots among `total` requests, as console_load.build_requests picks
    them: index i announces a new SID when i % every == every // 2."""
    new = sum(1 for i in range(total) if i % every == every // 2)
    return new, total - new


def synthetic_sids(rnd: random.Random, count: int) -> list[list[str]]:
    return [[f"{SYNTH_PREFIX}{rnd.getrandbits(96):024x}", SENDER, phone(rnd)] for _ in range(count)]


def expected_synthetic(args: argparse.Namespace, rounds: list[dict[str, Any]]) -> dict[str, int]:
    """Synthetic rows by status if every request that went out was applied. console_load
    sends in schedule order, so a round that ran out of time sent a prefix of its schedule:
    the tail of its announcements never happened (the next round's advance then creates
    those rows as delivered) and the tail of its advances left their SIDs `sent`."""
    lengths = round_lengths(args.minutes * 60, args.round_seconds)
    slots = [split_slots(int(args.rate * s), args.new_every) for s in lengths]
    counts = {"sent": 0, "delivered": 0, "read": 0}
    # The SIDs the next round advances: (how many, how many were announced). First the
    # pool, all ingested as sent.
    size, announced = slots[0][1], slots[0][1]
    for index, (new_slots, _) in enumerate(slots):
        went = rounds[index]["sent"] if index < len(rounds) else 0
        new_done, adv_done = split_slots(went, args.new_every)
        advanced = min(adv_done, size)
        read = min(max(0, adv_done - size), size)  # a second pass over a short list
        counts["read"] += read
        counts["delivered"] += advanced - read
        counts["sent"] += max(0, announced - advanced)
        size, announced = new_slots, min(new_done, new_slots)
    counts["sent"] += announced  # the last round's announcements: never advanced
    return counts


class Generator:
    """One console_load.py process: spawned and built ahead, started on demand."""

    def __init__(self, index: int, spec_path: Path, result_path: Path, seconds: float) -> None:
        self.index = index
        self.spec_path = spec_path
        self.result_path = result_path
        self.seconds = seconds
        self.process: asyncio.subprocess.Process | None = None

    async def spawn(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "console_load.py"), str(self.spec_path),
            str(self.result_path), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip

    async def ready(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 120)
        if line.strip() != b"ready":
            raise RuntimeError(f"load generator {self.index} did not start: {line!r}")

    async def go(self) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()

    async def finish(self) -> dict[str, Any]:
        assert self.process is not None
        try:
            # console_load gives up GRACE (10 s) past its schedule; more is a hang.
            await asyncio.wait_for(self.process.wait(), self.seconds + 40)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise RuntimeError(f"load generator {self.index} hung") from None
        result: dict[str, Any] = json.loads(self.result_path.read_text())
        # Per-SID times are for the latency bench; here only how many.
        result["new_sent"] = len(result.pop("new_sent"))
        result["new_acked"] = len(result.pop("new_acked"))
        self.spec_path.unlink(missing_ok=True)
        self.result_path.unlink(missing_ok=True)
        return result

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def create_pool(store: Store, sids: list[list[str]]) -> float:
    """Ingest `sids` as `sent` through the store's API (what a receiver does, without
    HTTP); returns the seconds it took."""
    from tui.domain.facts import facts_from_callback
    from tui.store import EventKind, IncomingEvent, SignatureVerdict

    started = time.perf_counter()
    chunk = 500
    for start in range(0, len(sids), chunk):
        events = []
        for sid, sender, to in sids[start : start + chunk]:
            params = (
                ("AccountSid", "AC" + "5" * 32), ("ApiVersion", "2010-04-01"),
                ("From", sender), ("MessageSid", sid), ("MessageStatus", "sent"),
                ("SmsSid", sid), ("SmsStatus", "sent"), ("To", to),
            )  # fmt: skip
            events.append(
                IncomingEvent(
                    kind=EventKind.CALLBACK,
                    facts=facts_from_callback(params),
                    params=params,
                    received_at=time.time(),
                    signature=SignatureVerdict.VALID,
                    idempotency_token=f"{sid}-sent-pool",
                )
            )
        await asyncio.gather(*(store.ingest(e) for e in events))
    return time.perf_counter() - started


# --- the console (child process) -----------------------------------------------------------


def main_screen_ready(app: MsgwatchApp) -> bool:
    session = app.session
    return len(app.screen_stack) > 1 and session.server is not None and session.store is not None


async def wait_until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


class SendWatch:
    """Wraps `Lifecycle.send` (class-level, before the app starts, so the demo's first
    burst is seen too): how many sends are in progress, so stopping the traffic never
    cuts a create in half, and what each create answered."""

    def __init__(self) -> None:
        self.in_progress = 0
        self.results: dict[str, str | None] = {}  # SID -> status the create answered
        self.refused = 0  # Twilio refused the create (e.g. 21610 after a STOP)
        self.unknown = 0  # outcome unknown (no answer)

    def install(self) -> None:
        from tui.services.lifecycle import Lifecycle

        send = Lifecycle.send

        async def watched(lifecycle: Lifecycle, draft: Draft) -> SendResult:
            self.in_progress += 1
            try:
                result: SendResult = await send(lifecycle, draft)
            finally:
                self.in_progress -= 1
            if result.sid is not None:
                self.results[result.sid] = result.status.value if result.status else None
            elif result.outcome_unknown:
                self.unknown += 1
            elif result.error is not None:
                self.refused += 1
            return result

        Lifecycle.send = watched  # type: ignore[method-assign,assignment]


async def child(args: argparse.Namespace) -> dict[str, Any]:
    from tui.app import MsgwatchApp
    from tui.emulator.accounts import Credentials
    from tui.store.writer_process import ensure_forkserver

    workdir = Path(args.workdir)
    ledger = CallbackLedger()
    install_ledger(ledger)
    watch = SendWatch()
    watch.install()
    gc_probe = GcProbe()
    gc_probe.install()
    log_like_the_console(workdir)
    ensure_forkserver()  # as console_cli does, before the app takes the terminal
    credentials = Credentials.generate()
    options = replace(
        console_options(workdir / "console.db", workdir, credentials),
        scenario="chaos",
        traffic=True,
        seed=args.seed,
    )
    out: dict[str, Any] = {}
    app = MsgwatchApp(options)
    async with app.run_test(size=(120, 40)):
        await wait_until(lambda: main_screen_ready(app), 120, "the main screen")
        session = app.session
        store, server, local = session.store, session.server, session.local
        assert store is not None and server is not None and local is not None
        assert session.traffic is not None and session.lifecycle is not None
        writer = store._process._process  # the writer child (private: a bench may peek)
        assert writer is not None and writer.pid is not None
        writer_pid = writer.pid
        out["rss_started"] = memory()[0]
        out["writer_rss_started"] = memory(writer_pid)[0]
        await soak(
            args, app, store, server.base_url, credentials.auth_token, writer_pid, gc_probe, out
        )
        await final_check(app, store, ledger, watch, out)
    out["rss_after_exit"] = memory()[0]
    return out


async def soak(
    args: argparse.Namespace,
    app: MsgwatchApp,
    store: Store,
    base_url: str,
    token: str,
    writer_pid: int,
    gc_probe: GcProbe,
    out: dict[str, Any],
) -> None:
    workdir = Path(args.workdir)
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    lengths = round_lengths(args.minutes * 60, args.round_seconds)
    every = args.new_every
    slots = [split_slots(int(args.rate * s), every) for s in lengths]
    rnd = random.Random(args.seed)

    # The first round advances a pool created through the store's API, not over HTTP.
    pool = synthetic_sids(rnd, slots[0][1])
    out["pool"] = len(pool)
    out["pool_seconds"] = await create_pool(store, pool)
    receiver = app.session.receiver
    assert receiver is not None

    def build(index: int, advances: list[list[str]]) -> tuple[Generator, list[list[str]]]:
        new_count = slots[index][0]
        new = synthetic_sids(rnd, new_count)
        spec = {
            "host": host, "port": int(port), "path": "/message-status", "token": token,
            "rate": args.rate, "seconds": lengths[index], "connections": args.connections,
            "advances": advances, "new": new, "new_every": every,
        }  # fmt: skip
        spec_path = workdir / f"load-{index}.json"
        spec_path.write_text(json.dumps(spec))
        result_path = workdir / f"load-{index}-result.json"
        return Generator(index, spec_path, result_path, lengths[index]), new

    rounds: list[dict[str, Any]] = []
    pending, announced = build(0, pool)
    del pool
    await pending.spawn()
    await pending.ready()
    # Anchor: the same probe before the load, with only the demo traffic running.
    idle = LagProbe(time.perf_counter())
    idle.start()
    await asyncio.sleep(IDLE_LAG_SECONDS)
    await idle.stop()
    out["lag_before_load"] = summarize_lag(idle)["overall"]
    gc_probe.reset()
    t0 = time.perf_counter()
    lag = LagProbe(t0)
    sampler = Sampler(t0, writer_pid, app)
    cpu0 = {"console": cpu_seconds(), "writer": cpu_seconds(writer_pid)}
    sampler.sample()  # t = 0
    lag.start()
    sampler.start()
    current: Generator | None = None
    try:
        for index in range(len(lengths)):
            current, pending_next = pending, None
            received0, writes0 = receiver.stats.received, store.write_stats
            started = time.perf_counter() - t0
            await current.go()
            if index + 1 < len(lengths):
                # Build the next round while this one runs, off the loop: generating and
                # writing ~10^4 SIDs inline would show up as tens of ms of loop lag.
                pending_next, announced = await asyncio.to_thread(build, index + 1, announced)
                await pending_next.spawn()
            result = await current.finish()
            if pending_next is not None:
                await pending_next.ready()
                pending = pending_next
            writes1 = store.write_stats
            result.update(
                index=index,
                started_s=started,
                planned_seconds=lengths[index],
                received_by_console=receiver.stats.received - received0,
                commits=writes1[0] - writes0[0],
                committed_ops=writes1[1] - writes0[1],
            )
            rounds.append(result)
            print(
                f"# round {index + 1}/{len(lengths)}: {result['ok']:,} acknowledged of "
                f"{result['sent']:,} sent ({result['rate']:.0f}/s), "
                f"RSS {memory()[0]:.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
            if not app.is_running:
                raise RuntimeError("the console stopped during the load")
    finally:
        await lag.stop()
        await sampler.stop()
        for generator in (current, pending):
            if generator is not None:
                await generator.kill()
    end = sampler.sample()
    out["load_seconds"] = end["t"]
    out["cpu_load"] = {
        "console": cpu_seconds() - cpu0["console"],
        "writer": cpu_seconds(writer_pid) - cpu0["writer"],
    }
    out["cpu_total"] = {"console": cpu_seconds(), "writer": cpu_seconds(writer_pid)}
    out["samples"] = sampler.samples
    out["rounds"] = rounds
    out["lag"] = summarize_lag(lag)
    out["gc_during_load"] = gc_probe.summary()
    out["writer_pid"] = writer_pid


def summarize_lag(lag: LagProbe) -> dict[str, Any]:
    values = list(lag.lag_ms)
    per_minute: dict[int, list[float]] = {}
    for at, ms in zip(lag.at, lag.lag_ms, strict=True):
        per_minute.setdefault(int(at // 60), []).append(ms)

    def stats(v: list[float]) -> dict[str, float]:
        return {
            "n": len(v),
            "p50": percentile(v, 0.5),
            "p99": percentile(v, 0.99),
            "max": max(v) if v else float("nan"),
        }

    # The worst wake-ups and when (seconds into the load): periodic spikes point at a
    # periodic task (a recount, a round boundary), scattered ones at the machine.
    worst = sorted(zip(lag.lag_ms, lag.at, strict=True), reverse=True)[:10]
    return {
        "overall": stats(values),
        "over_100ms": sum(1 for v in values if v > 100),
        "worst": [{"t": round(at, 2), "ms": round(ms, 1)} for ms, at in worst],
        "per_minute": [{"minute": m, **stats(v)} for m, v in sorted(per_minute.items())],
    }


async def final_check(
    app: MsgwatchApp, store: Store, ledger: CallbackLedger, watch: SendWatch, out: dict[str, Any]
) -> None:
    """Stop the demo traffic, let the local Twilio finish, compare its book with the store."""
    session = app.session
    assert session.traffic is not None and session.local is not None
    # Stop between two sends: Repeating.stop cancels the round, and a create cancelled
    # after its request left would leave a book message whose answer was never stored.
    with contextlib.suppress(RuntimeError):
        await wait_until(lambda: watch.in_progress == 0, 10, "a pause between demo sends")
    await session.traffic.stop()
    out["demo_sends"] = session.traffic.sent
    local = session.local
    book = local.emulator.book
    started = time.perf_counter()

    def settled() -> bool:
        return not any(m.status in IN_FLIGHT for m in book)

    with contextlib.suppress(RuntimeError):
        await wait_until(settled, FINAL_WAIT, "final statuses")
    # Callbacks still being posted, and replies still to come, finish within the rest.
    left = max(0.1, FINAL_WAIT - (time.perf_counter() - started))
    # Not wait_for: cancelling idle() would cancel the gather, and with it the carrier's
    # own tasks. Left running, it ends when the session stops the carrier.
    idle = asyncio.ensure_future(local.carrier.idle())
    done, _ = await asyncio.wait({idle}, timeout=left)
    carrier_idle = idle in done
    out["final_wait_s"] = time.perf_counter() - started
    out["carrier_idle"] = carrier_idle
    await asyncio.sleep(0.5)  # a 200 follows the commit; let the last ones publish

    messages = list(book)
    in_flight = [m for m in messages if m.status in IN_FLIGHT]
    matches, mismatches, explained, missing, in_transit = 0, [], [], [], []
    for m in messages:
        row = await store.get_message(sid=m.sid)
        entry = ledger.sids.get(m.sid, SidLedger())
        book_status = m.status.value
        stored = row.status.value if row is not None and row.status else None
        if row is not None and stored == book_status:
            matches += 1
            continue
        if m.status in IN_FLIGHT:
            # Still moving when the final wait ran out: its next callback may be on its
            # way. Reported, not held against the console.
            in_transit.append({"sid": m.sid, "book": book_status, "store": stored})
            continue
        if row is None:
            missing.append(
                {"sid": m.sid, "book": book_status, "direction": m.direction, **vars(entry)}
            )
            continue
        created = watch.results.get(m.sid)
        learned: list[MessageStatus | None] = [MessageStatus(s) for s in entry.acked]
        if created:
            learned.append(MessageStatus(created))
        expected = merge_all(learned)
        detail = {
            "sid": m.sid,
            "book": book_status,
            "store": stored,
            "store_expected_from_acked": expected.value if expected else None,
            "create_answer": created,
            "acked": entry.acked,
            "dropped": entry.dropped,
            "not_acked": entry.failed,
        }
        # Chaos explains it when the book's status was only ever in dropped callbacks and
        # the store holds exactly what the acknowledged ones add up to.
        final_dropped = book_status in entry.dropped and book_status not in entry.acked
        if (
            final_dropped
            and book_status not in entry.failed
            and stored == detail["store_expected_from_acked"]
        ):
            explained.append(detail)
        else:
            mismatches.append(detail)
    out["consistency"] = {
        "book": len(messages),
        "book_outbound": sum(1 for m in messages if m.direction != "inbound"),
        "book_inbound": sum(1 for m in messages if m.direction == "inbound"),
        "book_by_status": count_by(m.status.value for m in messages),
        "still_in_flight": [
            {"sid": m.sid, "status": m.status.value, "direction": m.direction} for m in in_flight
        ],
        "matches": matches,
        "in_transit": len(in_transit),
        "in_transit_examples": in_transit[:10],
        "explained_by_drop": len(explained),
        "explained_examples": explained[:10],
        "mismatches": len(mismatches),
        "mismatch_examples": mismatches[:10],
        "missing": len(missing),
        "missing_examples": missing[:10],
        "creates_refused": watch.refused,
        "creates_unknown": watch.unknown,
    }
    out["chaos"] = {
        "callbacks_posted": ledger.sent,
        "duplicates": ledger.duplicates,
        "dropped": ledger.dropped,
        "not_acknowledged": ledger.not_acked,
        "answers": ledger.answers,
    }


def count_by(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return dict(sorted(counts.items()))


# --- the orchestrator -------------------------------------------------------------------


def store_counts(db: Path) -> dict[str, Any]:
    """Rows in the store once the console has exited (the writer checkpointed)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        no_sid = conn.execute("SELECT count(*) FROM messages WHERE sid IS NULL").fetchone()[0]
        synthetic = dict(
            conn.execute(
                "SELECT status, count(*) FROM messages WHERE sid LIKE ? GROUP BY status",
                (SYNTH_PREFIX + "%",),
            ).fetchall()
        )
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return {
        "rows": total,
        "rows_without_sid": no_sid,
        "synthetic_by_status": synthetic,
        "synthetic": sum(synthetic.values()),
        "demo_rows_with_sid": total - no_sid - sum(synthetic.values()),
        "events": events,
        "db_mib": db.stat().st_size / 2**20,
    }


def run_child(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    out = workdir / "child.json"
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--child", "--workdir", str(workdir),
        "--minutes", str(args.minutes), "--rate", str(args.rate), "--seed", str(args.seed),
        "--round-seconds", str(args.round_seconds), "--connections", str(args.connections),
        "--new-every", str(args.new_every),
    ]  # fmt: skip
    # The load itself, the pool, building the first round, the final wait, start and stop.
    timeout = args.minutes * 60 + 120 + FINAL_WAIT + 120
    # Its own process group: on a timeout the console, its writer and its load
    # generators go together, and nothing else.
    process = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
                break
        return {"error": f"the console ran past {timeout:.0f} s and was killed"}
    if not out.exists():
        return {"error": f"the console exited with {code} and no result"}
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per minute."""
    if len(points) < 2:
        return float("nan")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return float("nan")
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def summarize(args: argparse.Namespace, r: dict[str, Any]) -> dict[str, Any]:
    samples = r["samples"]
    warmup = min(args.warmup, 0.25 * args.minutes * 60)
    after = [s for s in samples if s["t"] >= warmup - 1e-6] or samples[-1:]
    base, end = after[0], samples[-1]

    def rss(key: str) -> dict[str, float]:
        points = [(s["t"], s[key]) for s in after]
        return {
            "after_warmup": base[key],
            "end": end[key],
            "max": max(s[key] for s in samples),
            "growth_mib_per_min": slope_per_minute(points),
            "growth_pct": 100 * (end[key] - base[key]) / base[key] if base[key] else 0.0,
        }

    rounds = r["rounds"]
    sent = sum(x["sent"] for x in rounds)
    ok = sum(x["ok"] for x in rounds)
    answered = sum(x["answered"] for x in rounds)
    errors = sum(x["errors"] for x in rounds)
    planned = sum(x["planned"] for x in rounds)
    seconds = sum(x["seconds"] for x in rounds)
    console_rss = rss("rss")
    writer_rss = rss("writer_rss")
    counts, c = r["store"], r["consistency"]
    plan = expected_synthetic(args, rounds)
    synthetic = counts["synthetic_by_status"]
    # Exact when every request that went out was answered 200: one that failed may or
    # may not have been committed.
    exact = all(x["errors"] == 0 and x["ok"] == x["answered"] == x["sent"] for x in rounds)
    plan_matches = (
        synthetic.get("sent", 0) == plan["sent"]
        and synthetic.get("delivered", 0) == plan["delivered"]
        and synthetic.get("read", 0) == plan["read"]
    )
    failures = []
    if console_rss["growth_pct"] > 100 * RSS_GROWTH_LIMIT:
        failures.append(f"console RSS grew {console_rss['growth_pct']:.0f}% after warm-up")
    if c["mismatches"]:
        failures.append(f"{c['mismatches']} store/emulator mismatches chaos does not explain")
    if c["missing"]:
        failures.append(f"{c['missing']} emulated messages have no row in the store")
    if exact and not plan_matches:
        failures.append("acknowledged synthetic callbacks are not all in the store")
    return {
        "minutes": args.minutes,
        "rate": args.rate,
        "seed": args.seed,
        "warmup_s": warmup,
        "load_seconds": r["load_seconds"],
        "console_rss_mib": console_rss,
        "writer_rss_mib": writer_rss,
        "rss_samples": [
            {
                "t": round(x["t"], 1),
                "console": round(x["rss"], 1),
                "writer": round(x["writer_rss"], 1),
                "blocks": x["blocks"],
            }
            for x in samples
        ],
        "lag_ms": r["lag"],
        "lag_before_load_ms": r["lag_before_load"],
        "gc_during_load": r["gc_during_load"],
        "callbacks": {
            "planned": planned,
            "sent": sent,
            "acknowledged_200": ok,
            "non_2xx": answered - ok,
            "errors": errors,
            "rate": ok / seconds if seconds else 0.0,
            "per_round": [
                {
                    "round": x["index"] + 1,
                    "seconds": round(x["seconds"], 1),
                    "sent": x["sent"],
                    "ok": x["ok"],
                    "rate": round(x["rate"], 1),
                    "ack_p50_ms": round(x["ack_p50_ms"], 1),
                    "ack_p99_ms": round(x["ack_p99_ms"], 1),
                    "slip_p99_ms": round(x["slip_p99_ms"], 1),
                    "statuses": x["statuses"],
                    "generator_cpu_pct": round(x["cpu_percent"], 0),
                }
                for x in rounds
            ],
        },
        "cpu_seconds": {"during_load": r["cpu_load"], "total": r["cpu_total"]},
        "consistency": c,
        "chaos": r["chaos"],
        "store": counts,
        "synthetic_plan": {**plan, "exact": exact, "matches": plan_matches},
        "pool": {"sids": r["pool"], "seconds": r["pool_seconds"]},
        "demo_sends": r["demo_sends"],
        "final_wait_s": r["final_wait_s"],
        "carrier_idle": r["carrier_idle"],
        "log": r.get("log", {}),
        "failures": failures,
    }


def table(s: dict[str, Any]) -> str:
    lines = ["| figure | value |", "|---|---|"]

    def row(figure: str, value: str) -> None:
        lines.append(f"| {figure} | {value} |")

    cr, wr, cb = s["console_rss_mib"], s["writer_rss_mib"], s["callbacks"]
    lag, c, ch, st = s["lag_ms"]["overall"], s["consistency"], s["chaos"], s["store"]
    row(
        "run",
        f"{s['minutes']:g} min of load at {s['rate']}/s, seed {s['seed']}, "
        f"warm-up {s['warmup_s']:.0f} s, {len(cb['per_round'])} rounds",
    )
    row(
        "console RSS: after warm-up / end / max",
        f"{cr['after_warmup']:.0f} / **{cr['end']:.0f}** / {cr['max']:.0f} MiB "
        f"({cr['growth_pct']:+.0f}%, slope {cr['growth_mib_per_min']:+.2f} MiB/min)",
    )
    row(
        "store writer RSS: after warm-up / end / max",
        f"{wr['after_warmup']:.0f} / {wr['end']:.0f} / {wr['max']:.0f} MiB "
        f"({wr['growth_pct']:+.0f}%, slope {wr['growth_mib_per_min']:+.2f} MiB/min)",
    )
    row(
        "event-loop lag (sleep(0.05) overshoot): p50 / p99 / max",
        f"{lag['p50']:.1f} / **{lag['p99']:.1f}** / {lag['max']:.0f} ms ({lag['n']:,} samples)",
    )
    idle = s["lag_before_load_ms"]
    row(
        f"... anchor: before the load, demo traffic only ({IDLE_LAG_SECONDS:.0f} s)",
        f"{idle['p50']:.1f} / {idle['p99']:.1f} / {idle['max']:.0f} ms",
    )
    gc2 = s["gc_during_load"]["gen2"]
    row(
        "full GC passes during the load: count / max / total (objects freed)",
        f"{gc2['passes']} / {gc2['max_ms']:.0f} ms / {gc2['total_ms']:.0f} ms "
        f"({gc2['collected']:,})",
    )
    per_min = s["lag_ms"]["per_minute"]
    row(
        "event-loop lag p99 per minute",
        ", ".join(f"{m['p99']:.0f}" for m in per_min) + " ms",
    )
    row(
        "external callbacks: sent / 200 / non-2xx / errors",
        f"{cb['sent']:,} / {cb['acknowledged_200']:,} / {cb['non_2xx']:,} / {cb['errors']:,} "
        f"(planned {cb['planned']:,})",
    )
    rates = [r["rate"] for r in cb["per_round"]]
    row(
        "achieved rate per round",
        f"**{cb['rate']:,.0f}/s** overall; rounds " + ", ".join(f"{x:.0f}" for x in rates),
    )
    p99s = [r["ack_p99_ms"] for r in cb["per_round"]]
    row("ack latency p99 per round", ", ".join(f"{x:.0f}" for x in p99s) + " ms")
    cpu = s["cpu_seconds"]
    row(
        "CPU seconds during the load: console / writer",
        f"{cpu['during_load']['console']:.0f} / {cpu['during_load']['writer']:.0f} s "
        f"({100 * cpu['during_load']['console'] / s['load_seconds']:.0f}% / "
        f"{100 * cpu['during_load']['writer'] / s['load_seconds']:.0f}% of one core); "
        f"total {cpu['total']['console']:.0f} / {cpu['total']['writer']:.0f} s",
    )
    row(
        "emulator book vs store: matches / explained by dropped final callback / "
        "unexplained / missing rows",
        f"{c['matches']} / {c['explained_by_drop']} / **{c['mismatches']}** / "
        f"**{c['missing']}** of {c['book']} ({c['book_outbound']} out, {c['book_inbound']} in)",
    )
    row(
        "still in flight after the final wait (of which store differs)",
        f"{len(c['still_in_flight'])} ({c.get('in_transit', 0)}; waited "
        f"{s['final_wait_s']:.0f} s, carrier idle: {s['carrier_idle']})",
    )
    row(
        "chaos callbacks: posted / duplicates / dropped / not acknowledged",
        f"{ch['callbacks_posted']:,} / {ch['duplicates']:,} / {ch['dropped']:,} / "
        f"{ch['not_acknowledged']:,}",
    )
    row(
        "store rows: total / synthetic / demo with SID / without SID (refused creates)",
        f"{st['rows']:,} / {st['synthetic']:,} / {st['demo_rows_with_sid']:,} / "
        f"{st['rows_without_sid']:,} (refused {c['creates_refused']}, unknown "
        f"{c['creates_unknown']}); {st['events']:,} events, {st['db_mib']:.0f} MiB",
    )
    plan, got = s["synthetic_plan"], st["synthetic_by_status"]
    row(
        "synthetic rows sent / delivered / read: store vs plan",
        f"{got.get('sent', 0):,} / {got.get('delivered', 0):,} / {got.get('read', 0):,} vs "
        f"{plan['sent']:,} / {plan['delivered']:,} / {plan['read']:,}"
        + ("" if plan["exact"] else " (some requests unanswered or refused: approximate)"),
    )
    row("verdict", "; ".join(s["failures"]) if s["failures"] else "pass")
    return "\n".join(lines) + "\n\n" + minute_table(s)


def minute_table(s: dict[str, Any]) -> str:
    """Per minute of load: lag, full GC passes, and where RSS and live objects stand."""
    gc_by_minute = {m["minute"]: m for m in s["gc_during_load"]["full_per_minute"]}
    samples = s["rss_samples"]
    lines = [
        "| minute | lag p50 / p99 / max (ms) | full GC passes (mean wall / CPU ms) | "
        "console RSS at its end (MiB) | Python blocks at its end |",
        "|---|---|---|---|---|",
    ]
    for m in s["lag_ms"]["per_minute"]:
        minute = m["minute"]
        at_end = [x for x in samples if x["t"] <= 60 * (minute + 1) + 1] or samples[:1]
        last = at_end[-1]
        gc = gc_by_minute.get(minute)
        passes = (
            f"{gc['passes']} ({gc['mean_wall_ms']:.0f} / {gc['mean_cpu_ms']:.0f})" if gc else "0"
        )
        lines.append(
            f"| {minute + 1} | {m['p50']:.1f} / {m['p99']:.0f} / {m['max']:.0f} | {passes} | "
            f"{last['console']:.0f} | {last['blocks']:,} |"
        )
    return "\n".join(lines)


def log_summary(path: Path) -> dict[str, Any]:
    """WARNING/ERROR lines of the console's log, by logger and first words."""
    counts: dict[str, int] = {}
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split(" ", 4)
            if len(parts) == 5 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
                key = f"{parts[2]} {parts[3]} {' '.join(parts[4].split()[:4])}"
                counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:20])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0, help="minutes of load")
    ap.add_argument("--rate", type=int, default=500, help="external callbacks per second")
    ap.add_argument("--seed", type=int, default=7, help="demo traffic, carrier and SIDs")
    ap.add_argument("--out", type=Path, help="write the JSON summary here")
    ap.add_argument("--warmup", type=float, default=60.0,
                    help="seconds of load before the RSS baseline (at most a quarter)")  # fmt: skip
    ap.add_argument("--round-seconds", type=float, default=45.0, help="one generator's share")
    ap.add_argument("--connections", type=int, default=128, help="load generator connections")
    ap.add_argument("--new-every", type=int, default=2, help="1 in N requests announces a SID")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (database, log)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        try:
            result = asyncio.run(child(args))
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        Path(args.workdir, "child.json").write_text(json.dumps(result))
        return
    if args.new_every < 2:
        ap.error("--new-every must be at least 2 (some requests must advance)")

    command = " ".join([".venv/bin/python bench/soak.py", *sys.argv[1:]])
    print(f"# {command}", file=sys.stderr, flush=True)
    workdir = WORK_DIR / f"run-{os.getpid()}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        r = run_child(args, workdir)
        if "error" not in r:
            r["store"] = store_counts(workdir / "console.db")
        r["log"] = log_summary(workdir / "console.log")
    finally:
        if args.keep:
            print(f"# kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if "error" in r:
        print(json.dumps(r, indent=2))
        sys.exit(2)
    summary = summarize(args, r)
    text = json.dumps(summary, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)
    print()
    print(table(summary))
    sys.exit(1 if summary["failures"] else 0)


if __name__ == "__main__":
    main()
