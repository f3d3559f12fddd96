"""Twilio misbehaving under real sends: single sends and a 30-recipient bulk send through
the SDK, over loopback HTTP, into a real SQLite store, while the local Twilio answers 429
storms, 5xx before and after committing, answers too late, or has its connection reset.

tests/twilio covers what the gateway does with each fault on the wire. These tests hold
the whole system to two invariants, checked against the emulator's own book:

(a) no message is created twice: no (recipient, body) pair appears twice in the book
    unless someone deliberately sent it again;
(b) every send ends in a known state in the store: a SID with a status, failed with the
    error, or an explicit outcome-unknown row (no SID, no status, the error recorded).
    Reconciliation then settles each unknown row, and settles it *truthfully*: bound to
    the SID when Twilio did create the message, "not created" (failed) when it did not.

The emulator's faults (tui/emulator/faults.py) refuse, fail after commit or hang; they
cannot reset a connection. `ResettingProxy` below does that: a loopback TCP proxy in front
of the emulator that answers chosen creates with a TCP RST, before or after forwarding.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.fake_time import FakeTime
from tui.domain.status import MessageStatus as S
from tui.emulator.faults import Operation
from tui.emulator.model import API_VERSION
from tui.emulator.runner import LocalTwilio
from tui.emulator.scenarios import PRESETS, Latency, Scenario
from tui.server.receiver import Receiver, ReceiverConfig
from tui.server.runner import ReceiverServer
from tui.server.verify import SignatureConfig
from tui.services.bulk_send import BulkSend, BulkSummary
from tui.services.lifecycle import NOT_CREATED_AFTER, Draft, Lifecycle
from tui.services.reconcile import Reconciler
from tui.store import EventKind, MessageFilter, Store, StoredMessage
from tui.twilio.gateway import Gateway, RetryPolicy

TO, FROM = "+14155550100", "+14155550111"
RETRY = RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0)
DEADLINE = 15.0  # seconds any one wait on the system may take before the test fails
TIMEOUT = 2.0  # the gateway's per-attempt timeout, unless a test needs a short one
SHORT_TIMEOUT = 0.3  # for hang faults: shorter than the hang, so the answer is lost
HAPPY = replace(PRESETS["happy"], reply=0.0)  # no replies: the book holds what was sent


# -- the rig ---------------------------------------------------------------------------


class Clock:
    """The lifecycle's clock: real UTC plus an offset the test moves forward, so rows and
    the emulator agree on "now" until a test jumps past NOT_CREATED_AFTER."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump_past_not_created_after(self) -> None:
        self.offset += NOT_CREATED_AFTER + timedelta(minutes=1)


@dataclass
class Sleeps:
    """The gateway's back-off sleep: records each wait and returns at once, so a
    Retry-After of a minute costs no real time and is still asserted."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class Reset(StrEnum):
    BEFORE = "before"  # the request never reaches Twilio
    AFTER = "after"  # Twilio answered (the create committed), the answer is cut off


class ResettingProxy:
    """A loopback HTTP/1.1 proxy in front of the emulator that ends chosen creates with a
    TCP reset. `plan` maps a recipient (the create's `To`) to when its create is reset;
    every other request is relayed unchanged. One request at a time per connection, as
    aiohttp sends them; each is relayed on a fresh upstream connection."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.plan: dict[str, Reset] = {}
        self.resets: list[tuple[str, Reset]] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                request = await _read_message(reader)
                action = self._action_for(request)
                if action is Reset.BEFORE:
                    _reset(writer)
                    return
                response = await self._relay(request)
                if action is Reset.AFTER:
                    _reset(writer)
                    return
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its keep-alive connection
        finally:
            self._handlers.discard(task)
            writer.close()

    def _action_for(self, request: bytes) -> Reset | None:
        if not request.startswith(b"POST ") or b"/Messages.json " not in request.split(b"\r\n")[0]:
            return None
        _, _, body = request.partition(b"\r\n\r\n")
        to = parse_qs(body.decode())["To"][0]
        action = self.plan.pop(to, None)
        if action is not None:
            self.resets.append((to, action))
        return action

    async def _relay(self, request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            writer.write(request)
            await writer.drain()
            return await _read_message(reader)
        finally:
            writer.close()
            await writer.wait_closed()


async def _read_message(reader: asyncio.StreamReader) -> bytes:
    """One HTTP message (head and Content-Length body): what the SDK and aiohttp send."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"transfer-encoding":
            raise AssertionError("the proxy relays Content-Length bodies only")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head + await reader.readexactly(length)


def _reset(writer: asyncio.StreamWriter) -> None:
    # SO_LINGER with a zero timeout turns the close into a RST: the peer sees "connection
    # reset by peer", not an orderly end of stream.
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass
class Rig:
    local: LocalTwilio
    store: Store
    gateway: Gateway
    lifecycle: Lifecycle
    clock: Clock
    sleeps: Sleeps
    proxy: ResettingProxy | None


@asynccontextmanager
async def rigged(
    tmp_path: Path,
    *,
    receiver: bool = False,
    proxy: bool = False,
    attempt_timeout: float = TIMEOUT,
    scenario: Scenario = HAPPY,
) -> AsyncIterator[Rig]:
    """The local Twilio (no replies: the book holds only what was sent), a store file, the
    gateway (through the resetting proxy when asked) and a lifecycle on a movable clock;
    with `receiver`, status callbacks too, as the console runs in demo mode."""
    async with AsyncExitStack() as stack:
        local = LocalTwilio(scenario=scenario, speed=10_000, seed=5)
        base = await local.start()
        stack.push_async_callback(local.stop)
        resetting = None
        if proxy:
            resetting = ResettingProxy(local.server.port)
            base = await resetting.start()
            stack.push_async_callback(resetting.stop)
        store = await Store.open(tmp_path / "faults.db")
        stack.push_async_callback(store.close)
        public_url = None
        creds = local.credentials
        if receiver:
            server = ReceiverServer(
                Receiver(store, ReceiverConfig(SignatureConfig(creds.auth_token))), port=0
            )
            public_url = await server.start()
            stack.push_async_callback(server.stop)
        sleeps = Sleeps()
        gateway = Gateway(
            creds.account_sid, creds.account_sid, creds.auth_token,
            api_base=base, timeout=attempt_timeout, retry=RETRY, sleep=sleeps, jitter=lambda: 1.0,
        )  # fmt: skip
        await gateway.start()
        stack.push_async_callback(gateway.close)  # before the proxy and emulator stop
        clock = Clock()
        lifecycle = Lifecycle(store, gateway, public_url=public_url, default_from=FROM, clock=clock)
        yield Rig(local, store, gateway, lifecycle, clock, sleeps, resetting)


# -- the invariants --------------------------------------------------------------------


def book_pairs(local: LocalTwilio) -> Counter[tuple[str, str]]:
    """How many times Twilio created each (recipient, body)."""
    return Counter((m.to, m.body) for m in local.emulator.book if m.direction != "inbound")


def book_sid(local: LocalTwilio, to: str, body: str) -> str | None:
    sids = [m.sid for m in local.emulator.book if (m.to, m.body) == (to, body)]
    assert len(sids) <= 1, f"{to} got {body!r} {len(sids)} times"
    return sids[0] if sids else None


async def all_rows(store: Store) -> list[StoredMessage]:
    return list((await store.page(MessageFilter(), None, 1000)).rows)


def is_unknown(row: StoredMessage) -> bool:
    return row.sid is None and row.status is None


async def assert_known_states(store: Store) -> list[StoredMessage]:
    """Invariant (b), before reconciliation: each row is sent, failed with its error, or
    explicitly unknown (its create event records why); nothing in between."""
    rows = await all_rows(store)
    for row in rows:
        if row.sid is not None:
            assert row.status is not None, row
        elif row.status is S.FAILED:
            assert row.error_code is not None or row.error_message, row
        else:
            assert is_unknown(row), row
            events = await store.events_for(row.id)
            errors = [dict(e.params).get("error") for e in events if e.kind is EventKind.CREATE]
            assert any(errors), f"unknown row {row.id} has no recorded error: {events}"
    return rows


async def assert_settled_truthfully(rig: Rig) -> list[StoredMessage]:
    """Invariants (a) and (b) after reconciliation, against the emulator's book: nothing
    created twice, no row left unknown, and for every (recipient, body) exactly one row
    holds the SID when Twilio created it; every other row is failed, with no SID."""
    book = book_pairs(rig.local)
    assert not [pair for pair, n in book.items() if n > 1], "a message was created twice"
    rows = await assert_known_states(rig.store)
    assert not [r for r in rows if is_unknown(r)], "a send was left in an unknown state"
    sids = [r.sid for r in rows if r.sid]
    assert len(sids) == len(set(sids)), "two rows claim one message"
    groups: dict[tuple[str, str], list[StoredMessage]] = {}
    for row in rows:
        groups.setdefault((row.to_addr or "", row.body or ""), []).append(row)
    assert set(book) <= set(groups), "Twilio holds a message the store knows nothing of"
    for (to, body), group in groups.items():
        created = book_sid(rig.local, to, body)
        bound = [r.sid for r in group if r.sid]
        assert bound == ([created] if created else []), (to, body, group)
        assert all(r.status is S.FAILED for r in group if not r.sid), group
    return rows


async def carrier_settled(rig: Rig) -> None:
    """Every created message at a final status and its callbacks delivered."""
    async with asyncio.timeout(DEADLINE):
        await rig.local.carrier.idle()


# -- single sends ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("storm", "retry_after", "created"),
    [
        pytest.param(3, None, True, id="3x429-ridden-out"),
        pytest.param(3, 2, True, id="3x429-retry-after-2s-ridden-out"),
        pytest.param(4, None, False, id="4x429-attempts-exhausted"),
        pytest.param(2, 60, False, id="429-retry-after-60s-handed-back"),
    ],
)
async def test_a_429_storm_leaves_one_message_or_a_failed_row(
    tmp_path: Path, storm: int, retry_after: int | None, created: bool
) -> None:
    async with rigged(tmp_path) as rig:
        rig.local.faults.refuse(Operation.CREATE, retry_after=retry_after, times=storm)
        body = f"storm of {storm}"
        result = await rig.lifecycle.send(Draft(to=TO, body=body))

        assert not result.outcome_unknown  # a 429 is a refusal: Twilio did nothing
        assert (result.sid is not None) == created
        assert book_pairs(rig.local) == (Counter({(TO, body): 1}) if created else Counter())
        (row,) = await assert_known_states(rig.store)
        if created:
            assert row.sid == result.sid == book_sid(rig.local, TO, body)
            assert rig.local.faults.pending == 0  # every refusal was met by a retry
        else:
            assert row.status is S.FAILED and row.error_code == 20429 and row.sid is None
        if retry_after is not None and created:
            assert rig.sleeps.delays and min(rig.sleeps.delays) >= retry_after
        if retry_after is not None and not created:
            # Longer than the policy allows: the gateway gave up at once, one request.
            assert rig.sleeps.delays == [] and rig.local.faults.pending == storm - 1
            assert result.error is not None and result.error.retry_after == retry_after

        # Nothing for reconciliation to guess about, however late it runs.
        rig.local.faults.clear()
        rig.clock.jump_past_not_created_after()
        report = await Reconciler(rig.lifecycle).run_once()
        assert (report.bound, report.not_created, report.errors) == (0, 0, [])
        await assert_settled_truthfully(rig)
        if not created:  # refused by the rate limit: sending again is safe, and sends once
            again = await rig.lifecycle.resend(row.id)
            assert again.sid is not None and book_pairs(rig.local) == Counter({(TO, body): 1})


@dataclass(frozen=True)
class LostAnswer:
    """A create whose answer never arrives intact; `commits` is whether Twilio made it."""

    name: str
    commits: bool
    inject: Callable[[Rig], None]
    short_timeout: bool = False
    reset: Reset | None = None  # cut by the proxy, not by the emulator's faults


def reset_at(when: Reset) -> Callable[[Rig], None]:
    def inject(rig: Rig) -> None:
        assert rig.proxy is not None
        rig.proxy.plan[TO] = when

    return inject


LOST_ANSWERS = [
    LostAnswer(
        "503-before-commit",
        False,
        lambda rig: rig.local.faults.refuse(
            Operation.CREATE, status=503, code=20503, message="Service Unavailable"
        ),
    ),
    LostAnswer(
        "500-before-commit",
        False,
        lambda rig: rig.local.faults.refuse(
            Operation.CREATE, status=500, code=20500, message="Internal Server Error"
        ),
    ),
    LostAnswer("500-after-commit", True, lambda rig: rig.local.faults.fail_after_commit()),
    LostAnswer(
        "503-after-commit",
        True,
        lambda rig: rig.local.faults.fail_after_commit(status=503, code=20503),
    ),
    LostAnswer(
        "slow-past-timeout",
        True,
        lambda rig: rig.local.faults.hang_after_commit(seconds=30),
        short_timeout=True,
    ),
    LostAnswer("reset-before-forwarding", False, reset_at(Reset.BEFORE), reset=Reset.BEFORE),
    LostAnswer("reset-after-commit", True, reset_at(Reset.AFTER), reset=Reset.AFTER),
]


@pytest.mark.parametrize("lost", LOST_ANSWERS, ids=lambda lost: lost.name)
async def test_a_lost_create_answer_is_settled_as_twilio_has_it(
    tmp_path: Path, lost: LostAnswer
) -> None:
    wait = SHORT_TIMEOUT if lost.short_timeout else TIMEOUT
    async with rigged(tmp_path, proxy=lost.reset is not None, attempt_timeout=wait) as rig:
        lost.inject(rig)
        body = f"did it go? ({lost.name})"
        result = await rig.lifecycle.send(Draft(to=TO, body=body))

        assert result.outcome_unknown and result.sid is None
        assert rig.sleeps.delays == []  # never replayed, not even after a pause
        created = book_sid(rig.local, TO, body)
        assert (created is not None) == lost.commits
        if lost.reset is not None:
            assert rig.proxy is not None and rig.proxy.resets == [(TO, lost.reset)]
        (row,) = await assert_known_states(rig.store)
        assert is_unknown(row) and row.id == result.message_id

        # Soon after: a created message is found and bound; a missing one may still be
        # on its way into Twilio's list, so the row stays unknown.
        first = await rig.lifecycle.resolve_unknown(row)
        assert first == ("bound" if lost.commits else "still unknown")
        if not lost.commits:
            again = await rig.store.get_message(id=row.id)
            assert again is not None and is_unknown(again)
        # Past NOT_CREATED_AFTER, reconciliation settles whatever is left.
        rig.clock.jump_past_not_created_after()
        report = await Reconciler(rig.lifecycle).run_once()
        assert report.errors == []
        assert (report.bound, report.not_created) == (0, 0 if lost.commits else 1)
        (row,) = await assert_settled_truthfully(rig)
        assert row.sid == created

        if not lost.commits:  # "not created" is true, so a resend sends it exactly once
            resent = await rig.lifecycle.resend(row.id)
            assert resent.sid is not None
            assert book_pairs(rig.local) == Counter({(TO, body): 1})


async def test_a_lost_create_behind_a_full_page_of_newer_messages_is_still_found(
    tmp_path: Path,
) -> None:
    async with rigged(tmp_path) as rig:
        rig.local.faults.fail_after_commit()
        lost = await rig.lifecycle.send(Draft(to=TO, body="the lost one"))
        assert lost.outcome_unknown
        # Fifty more messages to the same number (another sender on the account, a busy
        # on-call phone), created straight in the local Twilio: quicker than 50 sends.
        creds = rig.local.credentials
        for n in range(50):
            form = [("To", TO), ("From", FROM), ("Body", f"later {n}")]
            rig.local.emulator.create(creds.account_sid, form, test_credentials=False)
        created = book_sid(rig.local, TO, "the lost one")
        assert created is not None

        rig.clock.jump_past_not_created_after()
        row = await rig.store.get_message(id=lost.message_id)
        assert row is not None
        assert await rig.lifecycle.resolve_unknown(row) == "bound"
        row = await rig.store.get_message(id=lost.message_id)
        assert row is not None and row.sid == created


async def test_a_row_bound_by_a_callback_during_the_lookup_is_not_declared_not_created(
    tmp_path: Path,
) -> None:
    # The carrier stands still, so the callback below is the only one, sent when chosen.
    still = replace(HAPPY, send_latency=Latency(3600, 3600))
    async with rigged(tmp_path, receiver=True, scenario=still) as rig:
        rig.local.faults.fail_after_commit()
        lost = await rig.lifecycle.send(Draft(to=TO, body="bound while looked up"))
        assert lost.outcome_unknown
        stale = await rig.store.get_message(id=lost.message_id)
        assert stale is not None and is_unknown(stale)  # what a reconcile round read
        # Meanwhile Twilio's "sent" callback arrives, to the URL the create carried.
        (created,) = list(rig.local.emulator.book)
        assert created.status_callback is not None and "lid=" in created.status_callback
        params = [
            ("AccountSid", created.account_sid),
            ("ApiVersion", API_VERSION),
            ("From", FROM),
            ("MessageSid", created.sid),
            ("MessageStatus", "sent"),
            ("To", TO),
        ]
        token = rig.local.credentials.auth_token
        delivery = await rig.local.sender.send("status", created.status_callback, params, token)
        assert delivery is not None and delivery.status == 200
        row = await rig.store.get_message(id=lost.message_id)
        assert row is not None and row.sid == created.sid and row.status is S.SENT

        rig.clock.jump_past_not_created_after()
        outcome = await rig.lifecycle.resolve_unknown(stale)
        row = await rig.store.get_message(id=lost.message_id)
        assert row is not None and (row.sid, row.status) == (created.sid, S.SENT), row
        assert outcome == "bound"


# -- bulk sends ------------------------------------------------------------------------

RECIPIENTS = [f"+447400123{n:03d}" for n in range(30)]
TEMPLATE = Draft(to="", body="Platform 4 is closed tonight.")


async def bulk_send(rig: Rig, pace: FakeTime) -> BulkSummary:
    """TEMPLATE to every recipient at 50/s on `pace`'s clock; each one attempted."""
    bulk = BulkSend(
        rig.lifecycle, TEMPLATE, RECIPIENTS, rate=50, clock=pace.clock, sleep=pace.sleep
    )
    async with asyncio.timeout(DEADLINE):
        summary = await bulk.run()
    p = summary.progress
    assert p.sent + p.refused + p.unknown == p.total == len(RECIPIENTS)
    return summary


async def test_a_bulk_send_through_429_storms_creates_each_message_at_most_once(
    tmp_path: Path,
) -> None:
    async with rigged(tmp_path, receiver=True) as rig:
        faults = rig.local.faults
        # Consumed in this order by whichever creates arrive: a storm the gateway's retries
        # ride out or exhaust, short Retry-Afters it waits for, and long ones (past the
        # policy's max_delay) it hands to the bulk send, which pauses its whole run.
        faults.refuse(Operation.CREATE, times=7)
        faults.refuse(Operation.CREATE, retry_after=1, times=3)
        faults.refuse(Operation.CREATE, retry_after=30, times=2)
        pace = FakeTime()
        summary = await bulk_send(rig, pace)
        p = summary.progress
        assert p.unknown == 0 and p.refused >= 2  # the two long Retry-Afters at least
        assert faults.pending == 0 and rig.sleeps.delays  # the gateway rode some out
        assert sum(pace.sleeps) >= 29  # a long Retry-After paused the whole run
        rows = await assert_known_states(rig.store)
        assert sorted(r.to_addr or "" for r in rows) == sorted(RECIPIENTS)  # one row each
        assert sorted(summary.rate_limited) == sorted(r.id for r in rows if not r.sid)
        for row in rows:
            if row.sid is None:
                assert row.status is S.FAILED and row.error_code == 20429
        assert sum(book_pairs(rig.local).values()) == p.sent

        await carrier_settled(rig)
        rig.clock.jump_past_not_created_after()
        report = await Reconciler(rig.lifecycle).run_once()
        assert (report.bound, report.not_created, report.errors) == (0, 0, [])
        await assert_settled_truthfully(rig)
        # The person resends the refused ones: each recipient then has exactly one message.
        for message_id in summary.rate_limited:
            assert (await rig.lifecycle.resend(message_id)).sid is not None
        assert book_pairs(rig.local) == Counter({(to, TEMPLATE.body): 1 for to in RECIPIENTS})
        await assert_settled_truthfully(rig)


@pytest.mark.parametrize("callbacks", [True, False], ids=["callbacks", "no-receiver"])
async def test_a_bulk_send_with_lost_answers_is_reconciled_truthfully(
    tmp_path: Path, callbacks: bool
) -> None:
    # Hang faults need answers to be lost to the gateway's timeout; a longer one than the
    # single-send tests' keeps a loaded machine's ordinary answers in time.
    async with rigged(tmp_path, receiver=callbacks, proxy=True, attempt_timeout=0.5) as rig:
        faults = rig.local.faults
        faults.refuse(Operation.CREATE, status=503, code=20503, message="Unavailable", times=2)
        faults.fail_after_commit(Operation.CREATE, times=2)
        faults.hang_after_commit(Operation.CREATE, seconds=30, times=2)
        # The last two recipients start only after at least 25 sends have finished, so
        # the six faults above are spent by then: each reset meets a healthy emulator.
        assert rig.proxy is not None
        rig.proxy.plan = {RECIPIENTS[-2]: Reset.BEFORE, RECIPIENTS[-1]: Reset.AFTER}
        pace = FakeTime()
        summary = await bulk_send(rig, pace)
        p = summary.progress
        assert p.refused == 0 and p.unknown >= 8  # more only if the machine was very slow
        assert faults.pending == 0 and len(rig.proxy.resets) == 2
        assert rig.sleeps.delays == []  # no create was ever replayed
        rows = await assert_known_states(rig.store)
        assert sorted(r.to_addr or "" for r in rows) == sorted(RECIPIENTS)
        not_created = {
            to for to in RECIPIENTS if book_sid(rig.local, to, TEMPLATE.body or "") is None
        }
        # The two 503 refusals and the reset before forwarding; nothing else went missing.
        assert len(not_created) == 3 and RECIPIENTS[-2] in not_created

        # With callbacks (they carry the local id) unknown rows Twilio created may be bound
        # by them already; without, every one waits for reconciliation, which (past the
        # deadline) settles the rest. Its first round meets a failing list (a hang, then
        # 503s until the gateway's attempts run out) for one lookup: that row must stay
        # unknown, never be guessed "not created".
        await carrier_settled(rig)
        unknown_before = [r for r in await all_rows(rig.store) if is_unknown(r)]
        if not callbacks:
            assert len(unknown_before) == p.unknown
        oldest = min(unknown_before, key=lambda r: (r.created_at, r.id))
        rig.clock.jump_past_not_created_after()
        faults.hang_after_commit(Operation.LIST, seconds=30)
        faults.refuse(Operation.LIST, status=503, code=20503, message="Unavailable", times=4)
        reconciler = Reconciler(rig.lifecycle)
        first = await reconciler.run_once()
        assert len(first.errors) == 1 and faults.pending == 0
        left = [r for r in await all_rows(rig.store) if is_unknown(r)]
        assert [r.id for r in left] == [oldest.id]  # looked up first, oldest first
        assert first.bound + first.not_created == len(unknown_before) - 1
        second = await reconciler.run_once()
        assert second.errors == [] and second.bound + second.not_created == 1
        assert first.not_created + second.not_created == len(not_created)

        rows = await assert_settled_truthfully(rig)
        assert {r.to_addr for r in rows if not r.sid} == not_created
        assert sum(book_pairs(rig.local).values()) == len(RECIPIENTS) - 3
