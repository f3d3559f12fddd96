"""Kill -9 durability harness for `msgwatch serve`, shared by the fast test
(tests/reliability/test_crash_durability.py) and the long run (bench/crash.py).

It owns four things: a seeded plan of signed status callbacks (out of order, redelivered,
repeated under a new idempotency token), a `msgwatch serve` subprocess that can be killed
and restarted on the same database, a client that sends the plan and records which
requests were acknowledged, and the checker that holds the database to those
acknowledgements once the last server has stopped.

It lives in bench/ so that `python bench/crash.py` needs nothing of the test suite (it puts
the project root on sys.path, as the other bench scripts do, and imports
`bench.crash_harness`); the test imports the same module, the project root being on
sys.path under pytest (tests/ is a package, so its rootdir is inserted).

The invariant (see `check`), for a database D left by runs killed with SIGKILL and a last
run stopped with SIGTERM, where A is the set of requests answered 200 and S the set of
requests sent (A is a subset of S):

1. `PRAGMA integrity_check` is 'ok' and `PRAGMA foreign_key_check` finds nothing.
2. Nothing invented: every event row of D is an accepted (signature 'valid') callback
   whose idempotency token was sent, carrying exactly the parameters sent with it.
3. Durability: every request in A is represented in D: an event row has its idempotency
   token or, for a redelivery under a new token, its exact parameters (the store keeps one
   row per token and one per content, and counts repeats on that row).
4. Repeat counts: for each event row e, acked(e) <= 1 + e.duplicates <= sent(e), where
   acked/sent count the requests of A/S with e's token or e's parameters. (Each
   acknowledged request committed either the row or one increment of its counter.)
5. Merge: for each SID, the message row's status is `merge_all` of the statuses of that
   SID's event rows in event-id order (the order the single writer applied them), its
   status_rank is that status's rank, each event's `applied` flag says whether it moved
   the fold, and the error code is the one carried by the callback of the winning status.
   No message row exists for a SID without events, nor for a SID never sent.
6. Client's view: for SIDs with a history Twilio can produce (one outcome per rank, which
   `merge` promises is order-independent), the stored status also equals `merge_all` over
   the statuses of the SID's acknowledged requests in the order their 200s arrived,
   followed by those of its event rows that no acknowledgement accounts for. (Rows for
   requests whose 200 was lost in a kill are allowed: delivery is at least once.) SIDs
   given two outcomes of one rank (delivered and undelivered) are held to check 5 only,
   since there the first one applied wins and only the database knows which that was.

Plus, from the processes: no request fails while a server is up and no kill is under way
(only kills may cost acknowledgements), nothing of a killed server's process group outlives
it, and SIGTERM stops the last server with exit status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

import aiohttp

from tui.domain.signature import compute_signature
from tui.domain.status import merge, merge_all, parse_status, rank

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "c0ffee00c0ffee00c0ffee00deadbeef"  # a test auth token, nothing real
PUBLIC_URL = "https://crash.example.test"  # signatures are checked on this, not the port
CALLBACK_URL = PUBLIC_URL + "/message-status"
ACCOUNT = "AC" + "c" * 32
FROM = "+15005550006"

START_DEADLINE_S = 30.0  # spawn -> banner; generous, the machine is shared
STOP_DEADLINE_S = 30.0  # SIGTERM -> exit: closing commits what is queued
GROUP_DEADLINE_S = 10.0  # a killed server's children (writer, forkserver) must follow it
REQUEST_TIMEOUT_S = 15.0  # Twilio's own read timeout for a callback
MAX_ATTEMPTS = 20  # per delivery; only kills may fail a request, so this is never reached

KillMode = Literal["pid", "group"]

# Error codes Twilio puts on the outcomes that did not reach the handset.
UNDELIVERED_CODES = ("30003", "30005", "30006")
FAILED_CODES = ("30008", "21610", "30007")


# --- the plan ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Callback:
    """One request as Twilio would build it: a retry of it carries the same token."""

    index: int
    sid: str
    status: str
    error_code: str | None
    params: tuple[tuple[str, str], ...]
    token: str
    body: bytes
    signature: str

    @property
    def content(self) -> tuple[tuple[str, str], ...]:
        # Order-insensitive, as the store's content key is.
        return tuple(sorted(self.params))


@dataclass(frozen=True, slots=True)
class Plan:
    callbacks: list[Callback]
    deliveries: list[int]  # callback indexes in send order; a repeat is a redelivery
    conflicting: frozenset[str]  # SIDs given two outcomes of one rank (see check 6)

    @property
    def sids(self) -> set[str]:
        return {c.sid for c in self.callbacks}


def _history(rng: random.Random) -> tuple[list[tuple[str, str | None]], bool]:
    """One message's transitions as Twilio reports them, and whether they conflict."""
    prefix: list[tuple[str, str | None]] = [("queued", None)]
    if rng.random() < 0.25:  # a Messaging Service send: accepted, then sending
        prefix = [("accepted", None), ("queued", None), ("sending", None)]
    roll = rng.random()
    if roll < 0.45:
        tail = [("sent", None), ("delivered", None)]
        if rng.random() < 0.35:
            tail.append(("read", None))
        return prefix + tail, False
    if roll < 0.65:
        return [*prefix, ("sent", None), ("undelivered", rng.choice(UNDELIVERED_CODES))], False
    if roll < 0.85:
        return [*prefix, ("failed", rng.choice(FAILED_CODES))], False
    # Not a history Twilio produces (two final outcomes), but a receiver must still hold
    # whichever it applied first, consistently with its own event log.
    outcomes = [("delivered", None), ("undelivered", rng.choice(UNDELIVERED_CODES))]
    rng.shuffle(outcomes)
    return [*prefix, ("sent", None), *outcomes], True


def _callback(index: int, sid: str, to: str, status: str, code: str | None, token: str) -> Callback:
    params = [
        ("AccountSid", ACCOUNT), ("ApiVersion", "2010-04-01"), ("From", FROM),
        ("MessageSid", sid), ("MessageStatus", status), ("SmsSid", sid),
        ("SmsStatus", status), ("To", to),
    ]  # fmt: skip
    if code is not None:
        params.append(("ErrorCode", code))
    return Callback(
        index=index,
        sid=sid,
        status=status,
        error_code=code,
        params=tuple(params),
        token=token,
        body=urlencode(params).encode(),
        signature=compute_signature(CALLBACK_URL, params, TOKEN),
    )


def build_plan(
    seed: int, sids: int, *, shuffle_p: float = 0.35, retry_p: float = 0.15, twin_p: float = 0.05
) -> Plan:
    """`sids` messages, each with a random history; each history arrives shuffled with
    probability `shuffle_p`; each callback is redelivered (same token) with `retry_p` and
    repeated under a new token (same parameters) with `twin_p`, at a later random point."""
    rng = random.Random(seed)
    callbacks: list[Callback] = []
    keyed: list[tuple[float, int]] = []  # (position in [0, 1), callback index)
    conflicting: set[str] = set()

    def add(sid: str, to: str, status: str, code: str | None) -> int:
        token = f"{rng.getrandbits(64):016x}-{len(callbacks)}"
        callbacks.append(_callback(len(callbacks), sid, to, status, code, token))
        return len(callbacks) - 1

    for n in range(sids):
        sid = f"SM{seed & 0xFFFFFFFF:08x}{n:024x}"
        to = f"+1555{n % 10_000_000:07d}"
        history, conflict = _history(rng)
        if conflict:
            conflicting.add(sid)
        if rng.random() < shuffle_p:
            rng.shuffle(history)
        positions = sorted(rng.random() for _ in history)
        for at, (status, code) in zip(positions, history, strict=True):
            index = add(sid, to, status, code)
            keyed.append((at, index))
            if rng.random() < retry_p:
                keyed.append((rng.uniform(at, 1.0), index))
            if rng.random() < twin_p:
                keyed.append((rng.uniform(at, 1.0), add(sid, to, status, code)))
    keyed.sort()
    return Plan(callbacks, [index for _, index in keyed], frozenset(conflicting))


def kill_thresholds(rng: random.Random, deliveries: int, kills: int) -> list[int]:
    """Acknowledgement counts at which to kill: one per equal slice of the traffic, at a
    random point in the middle of it, so no two kills run into each other."""
    width = deliveries / (kills + 1)
    return [max(1, int(width * (k + rng.uniform(0.6, 1.4)))) for k in range(kills)]


# --- the server -------------------------------------------------------------------------


class ServeError(RuntimeError):
    """`msgwatch serve` did not start, or did not stop as it should."""


def _child_env(home: Path) -> dict[str, str]:
    """The caller's environment minus anything that would make `serve` talk to Twilio or
    read someone's config: a developer's TWILIO_ACCOUNT_SID would start reconciliation."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "MSGWATCH_", "XDG_"))
    }
    env.update(
        TWILIO_AUTH_TOKEN=TOKEN,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
    )
    return env


def group_members(pgid: int) -> list[int] | None:
    """Live (not zombie) processes of process group `pgid`; None where /proc is missing."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    members: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


async def _exited(pid: int) -> None:
    """Return when process `pid` has exited. It is not our child (the writer, the
    forkserver), so there is no wait(): a pidfd becomes readable when the process ends."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[None] = loop.create_future()

    def readable() -> None:  # may fire again before the waiter runs
        if not gone.done():
            gone.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await gone
    finally:
        loop.remove_reader(fd)
        os.close(fd)


@dataclass
class ServeProcess:
    """One `msgwatch serve` at a time on `db`, restartable; `up` is set while a healthy
    server answers and no kill is under way, `generation` counts starts."""

    db: Path
    workdir: Path
    concurrency: int
    generation: int = 0
    base_url: str = ""
    session: aiohttp.ClientSession | None = None
    up: asyncio.Event = field(default_factory=asyncio.Event)
    port_changes: int = 0
    survivors: list[int] = field(default_factory=list)  # pids that outlived a killed server
    _proc: asyncio.subprocess.Process | None = None
    _sessions: list[aiohttp.ClientSession] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.workdir / "home").mkdir(parents=True, exist_ok=True)

    def log_path(self, generation: int) -> Path:
        return self.workdir / f"serve-{generation}.log"

    async def start(self, port: int = 0) -> float:
        """Start a server and wait until /healthz answers; seconds from spawn to healthy.
        On the same port as before if given and free, else on a new one."""
        started = time.monotonic()
        try:
            url = await self._spawn(port)
        except ServeError as exc:
            if port == 0 or "already in use" not in str(exc):
                raise
            self.port_changes += 1  # someone took the port meanwhile: the client follows
            url = await self._spawn(0)
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.concurrency),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )
        self._sessions.append(session)
        async with session.get(url + "/healthz") as resp:
            health = await resp.json() if resp.status == 200 else None
        if health is None or health.get("status") != "ok":
            raise ServeError(f"/healthz answered {resp.status}: {health}")
        # A session per server: keep-alive connections to a killed one are dead, and a
        # request failing on one must not look like the new server dropping it.
        self.base_url, self.session = url, session
        self.up.set()
        return time.monotonic() - started

    async def _spawn(self, port: int) -> str:
        self.generation += 1
        home = self.workdir / "home"
        with self.log_path(self.generation).open("wb") as log:
            # stderr (a log line per callback) to a file: a pipe nobody drains would fill
            # and block the server. stdout carries the banner only.
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tui", "serve", "--host", "127.0.0.1",
                "--port", str(port), "--db", str(self.db), "--public-url", PUBLIC_URL,
                stdout=asyncio.subprocess.PIPE, stderr=log, env=_child_env(home),
                cwd=ROOT, start_new_session=True,  # its own group: see kill("group")
            )  # fmt: skip
        assert self._proc.stdout is not None
        try:
            async with asyncio.timeout(START_DEADLINE_S):
                banner = (await self._proc.stdout.readline()).decode()
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
            raise ServeError(f"no banner in {START_DEADLINE_S} s: {self.log_tail()}") from None
        found = re.search(r"Receiving on (http://\S+?);", banner)
        if found is None:
            await self._proc.wait()
            raise ServeError(f"exited {self._proc.returncode}: {banner}{self.log_tail()}")
        return found.group(1)

    def log_tail(self, generation: int | None = None, lines: int = 15) -> str:
        path = self.log_path(generation or self.generation)
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    async def kill(self, mode: KillMode) -> None:
        """SIGKILL the server ("pid": the serve process alone, its writer child finishing
        what it holds; "group": serve, writer and forkserver at once, the writer possibly
        mid-transaction); return once all of them are gone."""
        assert self._proc is not None
        # Before the signal: any request failing from now on may be the kill's doing.
        self.up.clear()
        self.generation += 1
        pgid = self._proc.pid  # start_new_session: the group is named after its leader
        if mode == "group":
            os.killpg(pgid, signal.SIGKILL)
        else:
            os.kill(self._proc.pid, signal.SIGKILL)
        await self._proc.wait()
        await self.wait_group_gone(pgid)

    async def wait_group_gone(self, pgid: int) -> None:
        """Wait until no process of group `pgid` is alive; record and kill stragglers."""
        try:
            async with asyncio.timeout(GROUP_DEADLINE_S):
                while members := group_members(pgid):
                    for pid in members:
                        await _exited(pid)
        except TimeoutError:
            for pid in group_members(pgid) or ():
                self.survivors.append(pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # ours (our server's child): do not leak it

    async def stop(self) -> tuple[int | None, str]:
        """SIGTERM and wait: (exit status, stdout after the banner)."""
        assert self._proc is not None and self._proc.stdout is not None
        self.up.clear()
        self._proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_DEADLINE_S):
                rest = (await self._proc.stdout.read()).decode()
                code = await self._proc.wait()
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
            return None, f"did not stop within {STOP_DEADLINE_S} s"
        await self.wait_group_gone(self._proc.pid)
        return code, rest

    async def close(self) -> None:
        """Close client sessions and make sure no server of ours is left running."""
        for session in self._sessions:
            await session.close()
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            await self._proc.wait()


# --- the traffic ------------------------------------------------------------------------


@dataclass(slots=True)
class Attempt:
    callback: int
    generation: int
    status: int | None  # HTTP status, None when no answer came
    error: str | None  # the exception's name when no answer came


@dataclass
class Traffic:
    """Send every delivery of `plan` until acknowledged, killing the server at the given
    acknowledgement counts. `rate` paces first attempts (deliveries per second); None
    sends as fast as `concurrency` connections allow."""

    plan: Plan
    server: ServeProcess
    kills: list[tuple[int, KillMode]]  # (acks before the kill, how), in increasing order
    concurrency: int = 6
    rate: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    acks: list[int] = field(default_factory=list)  # callback index per 200, in ack order
    unexpected: list[str] = field(default_factory=list)  # failures with no kill to blame
    gave_up: list[int] = field(default_factory=list)
    downtimes: list[float] = field(default_factory=list)  # SIGKILL -> healthy again
    killed: list[tuple[int, KillMode]] = field(default_factory=list)  # (acks then, how)

    def __post_init__(self) -> None:
        self._queue: asyncio.Queue[tuple[int, int, int] | None] = asyncio.Queue()
        self._outstanding = len(self.plan.deliveries)
        self._progress = asyncio.Event()  # set on every settled delivery
        self._done = asyncio.Event()

    async def run(self) -> None:
        for ordinal, index in enumerate(self.plan.deliveries):
            self._queue.put_nowait((ordinal, index, 0))
        if not self.plan.deliveries:
            self._done.set()
        started = time.monotonic()
        workers = [
            asyncio.create_task(self._worker(started), name=f"crash-client-{n}")
            for n in range(self.concurrency)
        ]
        killer = asyncio.create_task(self._killer(), name="crash-killer")
        try:
            # Workers end on the sentinels put when the last delivery settles; a failed
            # restart ends the killer with its exception, and the whole run with it.
            await asyncio.gather(killer, *workers)
        finally:
            for task in (*workers, killer):
                task.cancel()
            await asyncio.gather(*workers, killer, return_exceptions=True)

    async def _worker(self, started: float) -> None:
        while (item := await self._queue.get()) is not None:
            ordinal, index, tries = item
            if tries == 0 and self.rate:
                # Pacing, not synchronisation: the schedule is the load being offered.
                delay = started + ordinal / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self.server.up.wait()
            if await self._send(index):
                self._acknowledged(index)
            elif tries + 1 >= MAX_ATTEMPTS:
                self.gave_up.append(index)
                self._settle()
            else:
                self._queue.put_nowait((ordinal, index, tries + 1))

    async def _send(self, index: int) -> bool:
        callback = self.plan.callbacks[index]
        server = self.server
        generation, session, url = server.generation, server.session, server.base_url
        assert session is not None
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": callback.signature,
            "I-Twilio-Idempotency-Token": callback.token,
            "User-Agent": "TwilioProxy/1.1",
        }
        status: int | None = None
        error: str | None = None
        try:
            async with session.post(
                url + "/message-status", data=callback.body, headers=headers
            ) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            error = type(exc).__name__
        self.attempts.append(Attempt(index, generation, status, error))
        if status == 200:
            return True
        if generation == server.generation and server.up.is_set():
            # The server this went to is alive and no kill was started: nothing excuses it.
            self.unexpected.append(f"{callback.sid} {callback.status}: {status or error}")
        return False

    def _acknowledged(self, index: int) -> None:
        self.acks.append(index)
        self._settle()

    def _settle(self) -> None:
        self._outstanding -= 1
        self._progress.set()
        if self._outstanding == 0:
            for _ in range(self.concurrency):
                self._queue.put_nowait(None)
            self._done.set()

    async def _killer(self) -> None:
        for threshold, mode in self.kills:
            while len(self.acks) < threshold and not self._done.is_set():
                self._progress.clear()
                await self._progress.wait()
            if self._done.is_set():
                return  # the traffic ran out first (every delivery acknowledged)
            port = int(self.server.base_url.rsplit(":", 1)[1])
            killed_at = time.monotonic()
            self.killed.append((len(self.acks), mode))
            await self.server.kill(mode)
            await self.server.start(port)
            self.downtimes.append(time.monotonic() - killed_at)


# --- the check --------------------------------------------------------------------------


@dataclass
class Report:
    kills: int = 0
    kill_modes: dict[str, int] = field(default_factory=dict)
    deliveries: int = 0
    attempts: int = 0
    failed_attempts: int = 0
    acked: int = 0
    events: int = 0
    acked_found: int = 0
    missing: int = 0
    extra_events: int = 0  # rows no 200 accounts for: allowed (at least once)
    unacked_commits: int = 0  # requests committed whose 200 a kill swallowed (then retried)
    merge_mismatches: int = 0
    integrity: str = ""
    downtimes: list[float] = field(default_factory=list)
    first_start_s: float = 0.0
    port_changes: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def mean_restart_s(self) -> float:
        return statistics.fmean(self.downtimes) if self.downtimes else 0.0


def _violate(report: Report, message: str) -> None:
    report.violations.append(message)


def check(db: Path, plan: Plan, acks: Sequence[int], attempts: Sequence[Attempt]) -> Report:
    """Hold the database at `db` (no server running) to the invariant in the module
    docstring; every breach is a line in `Report.violations`."""
    report = Report(acked=len(acks), attempts=len(attempts), deliveries=len(plan.deliveries))
    report.failed_attempts = sum(1 for a in attempts if a.status != 200)
    callbacks = plan.callbacks
    by_token = {c.token: c for c in callbacks}
    conn = sqlite3.connect(db)
    try:
        report.integrity = ", ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        if report.integrity != "ok":
            _violate(report, f"integrity_check: {report.integrity}")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            _violate(report, f"foreign_key_check: {fk[:5]}")
        events = conn.execute(
            "SELECT id, kind, message_id, message_sid, status, applied, signature, "
            "rejected_reason, idempotency_token, params, duplicates FROM events ORDER BY id"
        ).fetchall()
        messages = {
            sid: (mid, status, status_rank, error_code)
            for mid, sid, status, status_rank, error_code in conn.execute(
                "SELECT id, sid, status, status_rank, error_code FROM messages"
            )
        }
    finally:
        conn.close()
    report.events = len(events)

    # 2. Nothing invented.
    row_of_token: dict[str, int] = {}
    row_of_content: dict[tuple[tuple[str, str], ...], int] = {}
    by_sid: dict[str, list[tuple[int, str, bool, int]]] = defaultdict(list)
    duplicates: dict[int, int] = {}
    for eid, kind, mid, sid, status, applied, sig, reason, token, params, dups in events:
        sent = by_token.get(token)
        content = tuple(sorted((k, v) for k, v in json.loads(params)))
        if kind != "callback" or sig != "valid" or reason is not None:
            _violate(report, f"event {eid}: kind={kind} signature={sig} rejected={reason}")
        if sent is None or sent.content != content or sent.sid != sid or sent.status != status:
            _violate(report, f"event {eid}: not a request that was sent (token {token})")
            continue
        row_of_token[token] = eid
        row_of_content[content] = eid
        duplicates[eid] = dups
        by_sid[sid].append((eid, status, bool(applied), mid))

    # 3. Durability, and 4. repeat counts.
    def row_for(callback: Callback) -> int | None:
        found = row_of_token.get(callback.token)
        return found if found is not None else row_of_content.get(callback.content)

    acked_on: dict[int, int] = defaultdict(int)
    accounted: set[int] = set()
    for index in acks:
        eid = row_for(callbacks[index])
        if eid is None:
            report.missing += 1
            c = callbacks[index]
            _violate(report, f"acknowledged but not stored: {c.sid} {c.status} ({c.token})")
        else:
            report.acked_found += 1
            acked_on[eid] += 1
            accounted.add(eid)
    sent_on: dict[int, int] = defaultdict(int)
    for attempt in attempts:
        eid = row_for(callbacks[attempt.callback])
        if eid is not None:
            sent_on[eid] += 1
    for eid, dups in duplicates.items():
        if not acked_on[eid] <= 1 + dups <= sent_on[eid]:
            _violate(
                report,
                f"event {eid}: {acked_on[eid]} acknowledged, {sent_on[eid]} sent, "
                f"stored as 1 + {dups} duplicates",
            )
    report.extra_events = len(duplicates) - len(accounted)
    report.unacked_commits = sum(1 + dups - acked_on[eid] for eid, dups in duplicates.items())

    # 5. Merge, in the writer's order; 6. the client's order where that is well defined.
    code_of = {(c.sid, c.status): c.error_code for c in callbacks}
    acked_statuses: dict[str, list[str]] = defaultdict(list)
    for index in acks:
        acked_statuses[callbacks[index].sid].append(callbacks[index].status)
    for sid in sorted(set(by_sid) | set(messages)):
        rows = by_sid.get(sid, [])
        stored = messages.get(sid)
        if not rows or stored is None:
            _violate(report, f"{sid}: {len(rows)} events but message row {stored}")
            report.merge_mismatches += 1
            continue
        mid, status, status_rank, error_code = stored
        folded = None
        for eid, event_status, applied, event_mid in rows:
            merged = merge(folded, parse_status(event_status))
            if applied != (merged != folded) or event_mid != mid:
                _violate(report, f"{sid}: event {eid} applied={applied} message={event_mid}")
                report.merge_mismatches += 1
            folded = merged
        assert folded is not None  # every planned status is a known one
        expected_code = code_of[(sid, folded.value)]
        problems = []
        if status != folded.value or status_rank != rank(folded):
            problems.append(f"status {status}/{status_rank}, merge of events gives {folded}")
        if error_code != (int(expected_code) if expected_code else None):
            problems.append(f"error_code {error_code}, {folded} carried {expected_code}")
        if sid not in plan.conflicting:
            extras = [s for eid, s, _, _ in rows if eid not in accounted]
            client = merge_all([parse_status(s) for s in acked_statuses[sid] + extras])
            if client != folded:
                problems.append(f"status {status}, merge in acknowledgement order gives {client}")
        if problems:
            report.merge_mismatches += 1
            _violate(report, f"{sid}: " + "; ".join(problems))
    unknown = set(messages) - plan.sids
    if unknown:
        _violate(report, f"message rows for SIDs never sent: {sorted(unknown)[:5]}")
    return report


# --- one whole run ----------------------------------------------------------------------


@dataclass
class CrashRun:
    report: Report
    db: Path
    traffic: Traffic  # what was sent and acknowledged, to check a database again


async def crash_run(
    workdir: Path,
    plan: Plan,
    kills: list[tuple[int, KillMode]],
    *,
    concurrency: int = 6,
    rate: float | None = None,
) -> CrashRun:
    """Start a server on a fresh database in `workdir`, send `plan` while killing it at
    `kills`, stop the last one with SIGTERM, and check the database."""
    server = ServeProcess(db=workdir / "crash.db", workdir=workdir, concurrency=concurrency)
    traffic = Traffic(plan, server, kills, concurrency=concurrency, rate=rate)
    try:
        first_start = await server.start()
        await traffic.run()
        code, stdout = await server.stop()
    finally:
        await server.close()
    report = check(server.db, plan, traffic.acks, traffic.attempts)
    report.kills = len(traffic.killed)
    for _, mode in traffic.killed:
        report.kill_modes[mode] = report.kill_modes.get(mode, 0) + 1
    report.downtimes = traffic.downtimes
    report.first_start_s = first_start
    report.port_changes = server.port_changes
    if report.kills != len(kills):
        _violate(report, f"{report.kills} kills happened, {len(kills)} were planned")
    for line in traffic.unexpected:
        _violate(report, f"failed with no kill under way: {line}")
    for index in traffic.gave_up:
        _violate(report, f"gave up after {MAX_ATTEMPTS} attempts: {plan.callbacks[index].sid}")
    if server.survivors:
        _violate(report, f"processes outlived their server: {server.survivors}")
    if code != 0 or "Receiver stopped." not in stdout:
        _violate(report, f"SIGTERM: exit {code}, {stdout!r}\n{server.log_tail()}")
    return CrashRun(report, server.db, traffic)


def summary_table(report: Report, *, seed: int, seconds: float) -> str:
    """The run as a markdown table, for docs/BENCHMARKS.md."""
    modes = ", ".join(f"{n} {mode}" for mode, n in sorted(report.kill_modes.items()))
    downtimes = report.downtimes or [0.0]
    rows = [
        ("seed", str(seed)),
        ("kills (SIGKILL)", f"{report.kills} ({modes or 'none'})"),
        ("wall time", f"{seconds:.1f} s"),
        ("deliveries planned", str(report.deliveries)),
        ("requests sent (with retries)", str(report.attempts)),
        ("requests failed (all during kills)", str(report.failed_attempts)),
        ("acknowledged (200)", str(report.acked)),
        ("acknowledged and found in the database", str(report.acked_found)),
        ("acknowledged and missing", str(report.missing)),
        ("committed, 200 lost in a kill (then redelivered)", str(report.unacked_commits)),
        ("stored, never acknowledged (allowed)", str(report.extra_events)),
        ("event rows", str(report.events)),
        ("merge mismatches", str(report.merge_mismatches)),
        ("integrity_check", report.integrity),
        ("first start (spawn -> healthy)", f"{report.first_start_s:.2f} s"),
        (
            "restart (SIGKILL -> healthy), mean / max",
            f"{report.mean_restart_s:.2f} s / {max(downtimes):.2f} s",
        ),
        ("port changes on restart", str(report.port_changes)),
        ("violations", str(len(report.violations))),
    ]
    lines = ["| measure | value |", "|---|---|"]
    lines.extend(f"| {name} | {value} |" for name, value in rows)
    return "\n".join(lines)


def trim(lines: Sequence[str], limit: int = 20) -> str:
    more = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


__all__ = [
    "Attempt",
    "Callback",
    "CrashRun",
    "KillMode",
    "Plan",
    "Report",
    "ServeProcess",
    "Traffic",
    "build_plan",
    "check",
    "crash_run",
    "kill_thresholds",
    "summary_table",
    "trim",
]
