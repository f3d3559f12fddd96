"""Send, schedule, cancel, redact, delete, resend: through the real SDK against the local
Twilio, with the store kept true to it."""

from datetime import UTC, datetime, timedelta

import pytest

from tui.domain.status import MessageStatus as S
from tui.emulator.faults import Operation
from tui.emulator.model import ApiError
from tui.services.lifecycle import Draft, DraftError
from tui.store import EventKind

from .conftest import MG, TO, World


def emulated(world: World, sid: str):  # type: ignore[no-untyped-def]
    return world.local.emulator.fetch(world.local.credentials.account_sid, sid)


async def test_send_stores_local_row_then_sid_and_initial_status(world: World) -> None:
    result = await world.lifecycle.send(Draft(to="+1 (415) 555-0100", body="hello"))
    assert result.error is None and result.sid is not None
    stored = await world.store.get_message(id=result.message_id)
    assert stored is not None and stored.sid == result.sid and stored.to_addr == TO
    events = await world.store.events_for(result.message_id)
    assert events[0].kind is EventKind.CREATE and events[0].status == "queued"
    assert stored.local_id is not None


async def test_callback_url_carries_the_local_id(world_with_receiver: World) -> None:
    w = world_with_receiver
    result = await w.lifecycle.send(Draft(to=TO, body="hi"))
    assert result.sid is not None
    stored = await w.store.get_message(id=result.message_id)
    assert stored is not None
    url = emulated(w, result.sid).status_callback
    assert url == f"{w.lifecycle.public_url}/message-status?lid={stored.local_id}"
    await w.local.carrier.idle()
    final = await w.store.get_message(id=result.message_id)
    assert final is not None and final.status in {S.DELIVERED, S.UNDELIVERED, S.FAILED}
    assert w.receiver is not None and w.receiver.stats.rejected == 0


async def test_a_bad_draft_costs_no_request(world: World) -> None:
    with pytest.raises(DraftError) as info:
        await world.lifecycle.send(Draft(to="+1415", body="x"))
    assert info.value.field == "To" and info.value.code == 21211
    with pytest.raises(DraftError) as info:
        await world.lifecycle.send(Draft(to=TO, body="x" * 1601))
    assert info.value.code == 21617
    with pytest.raises(DraftError) as info:  # scheduling needs a Messaging Service
        await world.lifecycle.send(
            Draft(to=TO, body="x", send_at=datetime.now(UTC) + timedelta(hours=1))
        )
    assert info.value.code == 35118
    assert len(world.local.emulator.book) == 0


async def test_twilios_refusal_is_stored_as_failed(world: World) -> None:
    # Opted out recipients are refused by Twilio itself (21610), not by the domain rules.
    world.local.emulator.opt_out(TO, "+14155550111")
    result = await world.lifecycle.send(Draft(to=TO, body="after STOP"))
    assert result.error is not None and result.error.code == 21610
    stored = await world.store.get_message(id=result.message_id)
    assert stored is not None and stored.status is S.FAILED and stored.error_code == 21610
    assert stored.sid is None


async def test_schedule_then_cancel(world: World) -> None:
    when = datetime.now(UTC) + timedelta(hours=2)
    result = await world.lifecycle.send(
        Draft(to=TO, body="later", messaging_service_sid=MG, send_at=when)
    )
    assert result.status is S.SCHEDULED
    stored = await world.store.get_message(id=result.message_id)
    assert stored is not None and stored.send_at == when.replace(microsecond=0).timestamp()
    assert await world.lifecycle.cancel(result.message_id) is S.CANCELED
    assert emulated(world, result.sid or "").status == "canceled"


async def test_redact_blanks_twilios_copy_and_ours(world: World) -> None:
    result = await world.lifecycle.send(Draft(to=TO, body="code 1234"))
    await world.local.carrier.idle()
    await world.lifecycle.redact(result.message_id)
    assert emulated(world, result.sid or "").body == ""
    stored = await world.store.get_message(id=result.message_id)
    assert stored is not None and stored.body == ""
    for event in await world.store.events_for(result.message_id):
        assert "1234" not in repr(event.params)


@pytest.mark.parametrize("keep_local", [True, False])
async def test_delete_remote_keeping_or_dropping_local(world: World, keep_local: bool) -> None:
    result = await world.lifecycle.send(Draft(to=TO, body="bye"))
    await world.local.carrier.idle()
    await world.lifecycle.delete(result.message_id, keep_local=keep_local)
    with pytest.raises(ApiError):
        emulated(world, result.sid or "")
    stored = await world.store.get_message(id=result.message_id)
    assert (stored is not None) is keep_local


async def test_resend_is_a_new_message_linked_to_the_original(world: World) -> None:
    first = await world.lifecycle.send(
        Draft(to=TO, body="again?", media_urls=("https://e.com/a.png",))
    )
    second = await world.lifecycle.resend(first.message_id)
    assert second.sid is not None and second.sid != first.sid
    stored = await world.store.get_message(id=second.message_id)
    assert stored is not None and stored.resend_of == first.message_id
    assert stored.body == "again?" and emulated(world, second.sid).media_urls == (
        "https://e.com/a.png",
    )


@pytest.mark.parametrize("fault", ["error", "hang"])
async def test_a_lost_create_answer_is_never_resent_and_is_found_later(
    world: World, fault: str
) -> None:
    faults = world.local.faults
    if fault == "error":
        faults.fail_after_commit(Operation.CREATE, status=500)
    else:
        faults.hang_after_commit(Operation.CREATE, seconds=5.0)
        world.gateway.timeout = 0.3
    result = await world.lifecycle.send(Draft(to=TO, body="did it go?"))
    assert result.outcome_unknown and result.sid is None
    assert len(world.local.emulator.book) == 1  # created once, not replayed

    stored = await world.store.get_message(id=result.message_id)
    assert stored is not None and stored.sid is None and stored.status is None
    assert await world.lifecycle.resolve_unknown(stored) == "bound"

    bound = await world.store.get_message(id=result.message_id)
    (only,) = list(world.local.emulator.book)
    assert bound is not None and bound.sid == only.sid
    assert len(world.local.emulator.book) == 1
