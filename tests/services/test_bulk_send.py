"""Bulk send over the real SDK against the local Twilio: every recipient once, Twilio's
refusals counted and never re-sent, the pace lowered by rate limits, cancellation."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.fake_time import FakeTime
from tui.domain.addresses import parse_to
from tui.domain.status import MessageStatus as S
from tui.emulator.faults import Operation
from tui.services.bulk_send import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE,
    BulkProgress,
    BulkSend,
    BulkSummary,
)
from tui.services.lifecycle import Draft, DraftError
from tui.store import MessageFilter, StoredMessage
from tui.twilio.gateway import RetryPolicy

from .conftest import FROM, World

TEMPLATE = Draft(to="", body="The 09:40 to Leeds is cancelled.")


def uk_mobiles(count: int) -> list[str]:
    numbers = [f"+447400123{n:03d}" for n in range(count)]
    assert all(parse_to(n).normalized == n for n in numbers)  # valid, and already E.164
    return numbers


async def stored(world: World) -> list[StoredMessage]:
    return list((await world.store.page(MessageFilter(), None, 1000)).rows)


def no_retries(world: World) -> None:
    # The gateway retries a 429 itself first; off here so each one reaches the bulk send.
    world.gateway.retry = RetryPolicy(attempts=1)


def sends_alive() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if "BulkSend._attempt" in repr(t.get_coro())]


async def test_every_recipient_once(world: World) -> None:
    recipients = uk_mobiles(50)
    seen: list[BulkProgress] = []
    bulk = BulkSend(world.lifecycle, TEMPLATE, recipients, rate=1000, on_progress=seen.append)
    summary = await bulk.run()

    p = summary.progress
    assert (p.total, p.sent, p.refused, p.unknown, p.errors) == (50, 50, 0, 0, ())
    assert p.finished and summary.canceled == 0 and summary.rate_limited == ()
    assert [s.done for s in seen] == list(range(51))  # zeros first, then one per send
    assert [s.sent for s in seen] == sorted(s.sent for s in seen)
    assert Counter(m.to for m in world.local.emulator.book) == Counter(recipients)
    rows = await stored(world)
    assert sorted(r.to_addr or "" for r in rows) == sorted(recipients)
    assert all(r.sid is not None and r.status is S.QUEUED for r in rows)
    assert summary.describe().startswith("50 of 50 sent.")


async def test_an_opted_out_recipient_is_refused_and_the_rest_sent(world: World) -> None:
    recipients = uk_mobiles(10)
    world.local.emulator.opt_out(recipients[3], FROM)
    summary = await BulkSend(world.lifecycle, TEMPLATE, recipients, rate=1000).run()

    p = summary.progress
    assert (p.sent, p.refused, p.unknown) == (9, 1, 0)
    assert p.errors == ((21610, "Attempt to send to unsubscribed recipient", 1),)
    assert summary.rate_limited == ()  # a refusal on its merits: resending cannot help
    assert "1 refused (21610 \N{MULTIPLICATION SIGN} 1: Attempt to send" in summary.describe()
    (row,) = [r for r in await stored(world) if r.to_addr == recipients[3]]
    assert row.status is S.FAILED and row.error_code == 21610 and row.sid is None
    assert recipients[3] not in {m.to for m in world.local.emulator.book}


async def test_rate_limits_slow_the_pace_and_are_never_resent(world: World) -> None:
    no_retries(world)
    world.local.faults.refuse(Operation.CREATE, times=4)
    recipients = uk_mobiles(50)
    seen: list[BulkProgress] = []
    bulk = BulkSend(world.lifecycle, TEMPLATE, recipients, rate=500, on_progress=seen.append)
    summary = await bulk.run()

    p = summary.progress
    assert p.sent + p.refused + p.unknown == p.total == 50
    assert (p.sent, p.refused, p.unknown) == (46, 4, 0)
    assert p.errors == ((20429, "Too Many Requests", 4),)
    assert min(s.rate for s in seen) < 500 and max(s.rate for s in seen) <= 500
    book = Counter(m.to for m in world.local.emulator.book)
    assert len(book) == 46 and max(book.values()) == 1  # nobody twice

    # The refused rows exist, failed; sending one again is the person's call.
    assert len(summary.rate_limited) == 4
    for message_id in summary.rate_limited:
        row = await world.store.get_message(id=message_id)
        assert row is not None and row.status is S.FAILED and row.error_code == 20429
    again = await world.lifecycle.resend(summary.rate_limited[0])
    assert again.error is None and again.sid is not None


async def test_each_rate_limit_halves_the_pace_and_a_streak_restores_it(world: World) -> None:
    # One at a time, so each refusal is answered before the next send starts: each one
    # halves the pace, and the 47 accepted sends after them raise it twice by 25%.
    no_retries(world)
    world.local.faults.refuse(Operation.CREATE, times=3)
    rates: list[float] = []
    bulk = BulkSend(
        world.lifecycle,
        TEMPLATE,
        uk_mobiles(50),
        rate=1000,
        concurrency=1,
        on_progress=lambda p: rates.append(p.rate),
    )
    summary = await bulk.run()
    assert rates[:4] == [1000, 500, 250, 125]
    assert rates[-1] == pytest.approx(125 * 1.25 * 1.25)
    assert summary.progress.sent == 47 and summary.progress.refused == 3


async def test_cancel_stops_new_sends_and_counts_those_in_flight(world: World) -> None:
    recipients = uk_mobiles(50)
    bulk: BulkSend

    def progress(p: BulkProgress) -> None:
        if p.done == 5:
            bulk.cancel()

    bulk = BulkSend(world.lifecycle, TEMPLATE, recipients, rate=1000, on_progress=progress)
    summary = await bulk.run()

    p = summary.progress
    assert summary.canceled > 0 and p.done + summary.canceled == 50
    assert p.done <= 5 + DEFAULT_CONCURRENCY  # only those already in flight finished
    assert not p.finished
    # Those attempted are the first ones, each sent once.
    attempted = recipients[: p.done]
    assert Counter(m.to for m in world.local.emulator.book) == Counter(attempted)
    assert "not attempted (canceled)" in summary.describe()


async def test_cancel_interrupts_a_long_pause(world: World) -> None:
    # Twilio asks for a minute's pause; cancel must not wait it out.
    no_retries(world)
    world.local.faults.refuse(Operation.CREATE, retry_after=60)
    bulk: BulkSend
    paused = asyncio.Event()

    async def sleep(seconds: float) -> None:
        if seconds > 30:  # the pause (a hair under 60 s by the time it starts)
            paused.set()
        await asyncio.sleep(seconds)

    bulk = BulkSend(world.lifecycle, TEMPLATE, uk_mobiles(5), rate=1000, concurrency=1, sleep=sleep)
    run = asyncio.create_task(bulk.run())
    await paused.wait()
    bulk.cancel()
    summary = await run
    assert summary.progress.refused == 1 and summary.canceled == 4
    assert summary.rate_limited and len(world.local.emulator.book) == 0


async def test_canceling_the_run_cancels_sends_in_flight(world: World) -> None:
    world.local.faults.hang_after_commit(Operation.CREATE)  # the first create never answers
    bulk = BulkSend(world.lifecycle, TEMPLATE, uk_mobiles(3), concurrency=1)
    with world.store.subscribe() as feed:
        run = asyncio.create_task(bulk.run())
        await feed.next()  # the first send's row is stored: its create is under way
        assert len(sends_alive()) == 1
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
    assert sends_alive() == []
    (row,) = await stored(world)  # left for reconciliation, like any lost create
    assert row.sid is None and row.status is None


async def test_a_bad_template_is_one_error_before_any_request(world: World) -> None:
    seen: list[BulkProgress] = []
    bulk = BulkSend(world.lifecycle, Draft(to="", body=""), uk_mobiles(5), on_progress=seen.append)
    with pytest.raises(DraftError) as info:
        await bulk.run()
    assert info.value.field == "Body" and info.value.code == 21602
    assert len(world.local.emulator.book) == 0 and await stored(world) == [] and seen == []


async def test_a_bad_recipient_is_refused_without_blaming_the_template(world: World) -> None:
    recipients = ["+1415", *uk_mobiles(3)]  # the first one is not a number
    summary = await BulkSend(world.lifecycle, TEMPLATE, recipients, rate=1000).run()
    p = summary.progress
    assert (p.sent, p.refused) == (3, 1)
    ((code, _, count),) = p.errors
    assert (code, count) == (21211, 1)
    assert len(await stored(world)) == 3  # refused before any request: no row


async def test_an_unexpected_failure_counts_as_unknown(world: World) -> None:
    await world.gateway.close()  # every create now fails in a way Lifecycle does not expect
    summary = await BulkSend(world.lifecycle, TEMPLATE, uk_mobiles(3), rate=1000).run()
    p = summary.progress
    assert (p.sent, p.refused, p.unknown) == (0, 0, 3)
    assert p.errors == ((None, "Gateway.start() must be awaited before calling Twilio", 3),)


async def test_starts_are_spaced_one_over_rate_apart_in_order(world: World) -> None:
    fake = FakeTime()
    recipients = uk_mobiles(6)
    bulk = BulkSend(
        world.lifecycle, TEMPLATE, recipients, rate=10, concurrency=1,
        clock=fake.clock, sleep=fake.sleep,
    )  # fmt: skip
    summary = await bulk.run()
    assert fake.sleeps == pytest.approx([0.1] * 5)
    assert summary.elapsed == pytest.approx(0.5)
    in_order = sorted(world.local.emulator.book, key=lambda m: m.seq)
    assert [m.to for m in in_order] == recipients


async def test_a_rate_limit_pauses_for_retry_after_then_paces_slower(world: World) -> None:
    no_retries(world)
    fake = FakeTime()

    def progress(p: BulkProgress) -> None:
        if p.done == 2:  # the third create (started next) is refused
            world.local.faults.refuse(Operation.CREATE, retry_after=2)

    bulk = BulkSend(
        world.lifecycle, TEMPLATE, uk_mobiles(6), rate=10, concurrency=1,
        on_progress=progress, clock=fake.clock, sleep=fake.sleep,
    )  # fmt: skip
    summary = await bulk.run()
    # 0.1 s apart; the refusal asks for 2 s; then 0.2 s apart at half the pace.
    assert fake.sleeps == pytest.approx([0.1, 0.1, 2.0, 0.2, 0.2])
    assert summary.progress.rate == 5 and summary.progress.refused == 1


def test_describe_reads_like_a_sentence() -> None:
    progress = BulkProgress(
        total=50, sent=48, refused=2, unknown=0,
        errors=((21610, "Attempt to send to unsubscribed recipient", 2),), rate=10.0,
    )  # fmt: skip
    summary = BulkSummary(progress, canceled=0, elapsed=12.34)
    assert summary.describe() == (
        "48 of 50 sent, 2 refused "
        "(21610 \N{MULTIPLICATION SIGN} 2: Attempt to send to unsubscribed recipient). 12.3 s."
    )


@pytest.mark.parametrize(
    ("recipients", "rate", "concurrency"),
    [([], DEFAULT_RATE, 1), (["+447400123000"], 0.0, 1), (["+447400123000"], 1.0, 0)],
)
def test_arguments_are_checked(
    world: World, recipients: list[str], rate: float, concurrency: int
) -> None:
    with pytest.raises(ValueError, match="must"):
        BulkSend(world.lifecycle, TEMPLATE, recipients, rate=rate, concurrency=concurrency)
