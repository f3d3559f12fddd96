"""Keeping statuses true without (all) callbacks: reconciliation after lost callbacks,
polling mode with no receiver at all, and the history import."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui.domain.facts import facts_from_callback
from tui.domain.status import MessageStatus, is_terminal
from tui.services.history import import_history
from tui.services.lifecycle import Draft
from tui.services.polling import Poller
from tui.services.reconcile import Reconciler
from tui.store import EventKind, IncomingEvent, SignatureVerdict

from .conftest import TO, World, make_world


def truth(world: World, sid: str) -> str:
    return world.local.emulator.fetch(world.local.credentials.account_sid, sid).status.value


async def test_reconciliation_recovers_dropped_callbacks(tmp_path: Path) -> None:
    async with make_world(tmp_path, "chaos", receiver=True) as world:
        results = [await world.lifecycle.send(Draft(to=TO, body=f"m{i}")) for i in range(30)]
        await world.local.carrier.idle()
        assert any(d.dropped for d in world.local.sender.log)  # chaos really lost some
        stale = 0
        for r in results:
            stored = await world.store.get_message(id=r.message_id)
            assert stored is not None and stored.sid == r.sid
            stale += stored.status is not MessageStatus(truth(world, stored.sid))
        assert stale > 0  # otherwise this test proves nothing

        report = await Reconciler(world.lifecycle, stuck_after=timedelta(0)).run_once()

        assert report.errors == [] and report.fetched >= stale
        for r in results:
            stored = await world.store.get_message(id=r.message_id)
            assert stored is not None and stored.sid is not None
            assert stored.status is MessageStatus(truth(world, stored.sid)), stored.sid


def ghost(n: int) -> IncomingEvent:
    """A `sent` callback, long ago, for a SID the local Twilio has never seen (a message
    deleted at Twilio, or an earlier demo session's)."""
    sid = f"SM{n:032x}"
    params = (("MessageSid", sid), ("MessageStatus", "sent"))
    return IncomingEvent(
        kind=EventKind.CALLBACK,
        facts=facts_from_callback(params),
        params=params,
        received_at=1_700_000_000.0 + n,
        signature=SignatureVerdict.VALID,
    )


async def test_reconciliation_rotates_past_messages_twilio_does_not_know(tmp_path: Path) -> None:
    async with make_world(tmp_path) as world:  # no receiver: rows keep the create's status
        for n in range(3):
            await world.store.ingest(ghost(n))
        sends = [await world.lifecycle.send(Draft(to=TO, body=f"r{i}")) for i in range(3)]
        await world.local.carrier.idle()
        reconciler = Reconciler(world.lifecycle, stuck_after=timedelta(0), batch=3)

        # The oldest page is the three Twilio does not know: 404s, not errors.
        first = await reconciler.run_once()
        assert (first.unknown, first.fetched, first.errors) == (3, 0, [])
        # The next round reaches the messages behind them.
        second = await reconciler.run_once()
        assert (second.unknown, second.fetched, second.errors) == (0, 3, [])
        for r in sends:
            stored = await world.store.get_message(id=r.message_id)
            assert stored is not None and stored.sid is not None
            assert stored.status is MessageStatus(truth(world, stored.sid))
        # Then it wraps around, and the unknown ones are not asked about again.
        for _ in range(2):
            again = await reconciler.run_once()
            assert (again.unknown, again.fetched, again.errors) == (0, 0, [])


async def all_final(world: World, ids: list[int]) -> bool:
    for message_id in ids:
        stored = await world.store.get_message(id=message_id)
        if stored is None or stored.status is None or not is_terminal(stored.status):
            return False
    return True


async def test_polling_mode_reaches_final_statuses_without_a_receiver(tmp_path: Path) -> None:
    async with make_world(tmp_path, "flaky-carrier", speed=200) as world:
        assert not world.lifecycle.callbacks
        results = [await world.lifecycle.send(Draft(to=TO, body=f"p{i}")) for i in range(8)]
        poller = Poller(world.lifecycle, budget_per_minute=6000, first=0.02, longest=0.2)
        for r in results:
            poller.watch(r.message_id)
        feed = world.store.subscribe()
        poller.start()
        try:
            async with asyncio.timeout(30):
                while not await all_final(world, [r.message_id for r in results]):
                    await feed.next()
        finally:
            await poller.stop()
        for r in results:
            stored = await world.store.get_message(id=r.message_id)
            assert stored is not None and stored.status is not None and stored.sid is not None
            assert is_terminal(stored.status)
            assert stored.status is MessageStatus(truth(world, stored.sid))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_polling_never_exceeds_its_budget(tmp_path: Path) -> None:
    async with make_world(tmp_path, speed=1e-6) as world:  # nothing ever moves on
        clock = FakeClock()
        poller = Poller(world.lifecycle, budget_per_minute=12, first=1.0, longest=4.0, clock=clock)
        for i in range(20):
            poller.watch((await world.lifecycle.send(Draft(to=TO, body=f"b{i}"))).message_id)
        minutes = 3
        for _ in range(minutes * 60):
            clock.now += 1.0
            await poller.step()
        # 12 a minute, plus the initial burst (a sixth of a minute's budget); the demand
        # (20 messages every 4 s) is far above it, so the budget is used, not wasted.
        assert 12 * minutes - 2 <= poller.requests <= 12 * minutes + 2
        assert poller.watching == 20


async def test_history_import_is_resumable_and_idempotent(world: World) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    for i in range(25):
        await world.gateway.create(to=TO, from_="+14155550111", body=f"h{i}")
    await world.local.carrier.idle()
    first = await import_history(world.lifecycle, since, page_size=10, max_pages=1)
    assert (first.messages, first.finished, first.resumed) == (10, False, False)
    rest = await import_history(world.lifecycle, since, page_size=10)
    assert rest.resumed and rest.finished and rest.messages == 15
    again = await import_history(world.lifecycle, since, page_size=10)
    assert not again.resumed and again.messages == 25
    counts = await world.store.count_by_status()
    assert sum(counts.values()) == 25
