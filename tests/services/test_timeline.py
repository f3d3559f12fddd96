"""The message detail view's data: the timeline replay (pure), the fields, and the whole
detail loaded from a real store, including a send through the local Twilio."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tui.domain.facts import facts_from_callback
from tui.domain.status import MessageStatus
from tui.emulator.scenarios import PRESETS, Scenario
from tui.services.lifecycle import Draft
from tui.services.timeline import (
    Mark,
    build_timeline,
    fields_of,
    load_detail,
    time_to_final,
)
from tui.store import (
    EventKind,
    IncomingEvent,
    LocalMessage,
    SignatureVerdict,
    Store,
    StoredEvent,
    StoredMessage,
)

from .conftest import TO, World, make_world

S = MessageStatus
NOT_APPLICABLE = SignatureVerdict.NOT_APPLICABLE
SID = "SM" + "1" * 32
AC = "AC" + "2" * 32


def message(**changes: object) -> StoredMessage:
    values: dict[str, object] = {
        "id": 7, "sid": SID, "local_id": "L7", "account_sid": AC,
        "messaging_service_sid": None, "direction": "outbound-api",
        "from_addr": "+14155550111", "to_addr": "+447400123456", "body": "hello there",
        "num_segments": 1, "num_media": 0, "status": S.DELIVERED, "status_at": 130.0,
        "error_code": None, "error_message": None, "price": "-0.0079", "price_unit": "USD",
        "api_version": "2010-04-01", "date_created": 100.0, "date_sent": 101.0,
        "date_updated": 130.0, "raw_dlr_done_date": None, "send_at": None,
        "created_at": 99.0, "first_seen": 99.0, "last_seen": 140.0, "change_seq": 3,
    }  # fmt: skip
    values.update(changes)
    return StoredMessage(**values)  # type: ignore[arg-type]


def event(
    eid: int,
    status: str | None,
    at: float,
    *,
    kind: EventKind = EventKind.CALLBACK,
    signature: SignatureVerdict = SignatureVerdict.VALID,
    rejected_reason: str | None = None,
    duplicates: int = 0,
    error_code: int | None = None,
    message_id: int | None = 7,
) -> StoredEvent:
    params = (("MessageSid", SID), ("MessageStatus", status or ""))
    return StoredEvent(
        id=eid,
        kind=kind,
        received_at=at,
        message_id=message_id,
        message_sid=SID,
        local_id=None,
        status=status,
        status_known=status is None or status in set(S),
        error_code=error_code,
        applied=False,  # the timeline replays; it does not trust this flag
        signature=signature,
        rejected_reason=rejected_reason,
        checked_url="https://example.ngrok.app/message-status?lid=L7",
        idempotency_token=None,
        params=params,
        headers=(),
        duplicates=duplicates,
        last_duplicate_at=at + 5 if duplicates else None,
    )


# -- build_timeline: pure ----------------------------------------------------------------


def test_late_sent_is_out_of_order_and_time_in_state_skips_it() -> None:
    timeline = build_timeline(
        message(),
        [
            event(1, "queued", 100.0, kind=EventKind.CREATE, signature=NOT_APPLICABLE),
            event(2, "delivered", 130.0),
            event(3, "sent", 131.5),  # overtaken by delivered
        ],
    )  # fmt: skip
    queued, delivered, sent = timeline
    assert queued.marks == {Mark.INITIAL} and queued.applied
    assert queued.in_state == 30.0  # queued until delivered; the late sent changed nothing
    assert delivered.marks == frozenset() and delivered.in_state is None  # current status
    assert sent.marks == {Mark.OUT_OF_ORDER} and not sent.applied and sent.in_state is None
    assert sent.note == "sent (callback) — arrived after 'delivered', ignored"
    assert queued.note == "queued (create response)"
    assert [e.since_first for e in timeline] == [0.0, 30.0, 31.5]
    assert time_to_final(timeline) == 30.0


def test_in_state_follows_each_status_change() -> None:
    timeline = build_timeline(
        message(),
        [
            event(1, "queued", 100.0, kind=EventKind.CREATE),
            event(2, "sent", 102.0),
            event(3, "sent", 103.0, kind=EventKind.FETCH),  # confirms, changes nothing
            event(4, "delivered", 110.0, duplicates=2),
            event(5, "read", 170.0),
        ],
    )
    assert [e.in_state for e in timeline] == [2.0, 8.0, None, 60.0, None]
    assert timeline[2].marks == {Mark.RECONCILED, Mark.NOT_APPLIED}
    assert timeline[2].note == "sent (fetch) — confirms 'sent'"
    delivered = timeline[3]
    assert delivered.marks == {Mark.DUPLICATE} and delivered.applied
    assert delivered.duplicates == 2 and delivered.last_duplicate_at == 115.0
    assert delivered.note == "delivered (callback) — duplicate ×2 ignored"  # noqa: RUF001
    assert time_to_final(timeline) == 10.0  # delivered is final; read is a later extra


def test_rejected_events_are_kept_out_of_the_replay() -> None:
    timeline = build_timeline(
        message(),
        [
            event(1, "queued", 100.0, kind=EventKind.CREATE),
            # A forged "delivered" must neither move the state nor make the genuine
            # "sent" that follows look out of order.
            event(2, "delivered", 101.0, signature=SignatureVerdict.INVALID,
                  rejected_reason="signature invalid", message_id=None),
            event(3, "sent", 102.0),
        ],
    )  # fmt: skip
    queued, forged, sent = timeline
    assert forged.marks == {Mark.REJECTED} and forged.in_state is None
    assert forged.note == "delivered (callback) — rejected: signature invalid"
    assert sent.marks == frozenset() and queued.in_state == 2.0
    assert time_to_final(timeline) is None


def test_unknown_equal_rank_and_statusless_events() -> None:
    timeline = build_timeline(
        message(status=S.UNDELIVERED),
        [
            event(1, None, 100.0, kind=EventKind.CREATE),  # create outcome unknown
            event(2, "undelivered", 110.0, error_code=30003),
            event(3, "teleported", 111.0),
            event(4, "delivered", 112.0),  # same rank as undelivered: the first one sticks
            event(5, "sent", 113.0, message_id=8),  # another message's: left out
        ],
    )
    assert [e.event_id for e in timeline] == [1, 2, 3, 4]
    assert timeline[0].marks == {Mark.INITIAL, Mark.NOT_APPLIED}
    assert timeline[0].note == "no status (create response) — changed no status"
    assert timeline[1].note == "undelivered (callback), error 30003"
    assert timeline[1].error_code == 30003 and timeline[1].in_state is None
    assert timeline[2].marks == {Mark.UNKNOWN_STATUS}
    assert timeline[2].note == "'teleported' (callback) — status unknown to msgwatch, ignored"
    assert timeline[3].marks == {Mark.NOT_APPLIED}
    assert timeline[3].note == "delivered (callback) — arrived after 'undelivered', ignored"


def test_timeline_is_in_arrival_order_whatever_order_it_is_given() -> None:
    events = [event(3, "delivered", 3.0), event(1, "queued", 1.0), event(2, "sent", 2.0)]
    assert [e.event_id for e in build_timeline(message(), events)] == [1, 2, 3]
    assert build_timeline(message(), []) == ()


# -- fields_of ---------------------------------------------------------------------------


def test_fields_cover_every_field_readably() -> None:
    fields = dict(
        fields_of(
            message(
                error_code=30003,
                error_message="Unreachable",
                num_segments=2,
                raw_dlr_done_date="2507011930",
                send_at=1_750_000_000.0,
                resend_of=3,
                messaging_service_sid="MG" + "a" * 32,
            )
        )
    )
    assert fields["SID"] == SID and fields["Status"] == "delivered"
    assert fields["To"] == "+447400123456 (United Kingdom)"
    assert fields["Body"] == "11 characters, 2 segments"
    assert fields["Price"] == "-0.0079 USD"
    assert fields["Error"] == "30003 Unreachable destination handset"
    assert fields["Error message"] == "Unreachable"
    assert fields["Date created"] == "1970-01-01T00:01:40Z"
    assert fields["Carrier receipt"] == "2025-07-01T19:30:00Z"
    assert fields["Scheduled for"] == "2025-06-15T15:06:40Z"
    assert fields["Account"].endswith("2222") and AC not in fields["Account"]
    assert fields["Messaging service"] == "MG" + "a" * 32
    assert fields["Local id"] == "L7" and fields["Resend of"] == "#3"


def test_fields_of_a_bare_local_send() -> None:
    fields = dict(
        fields_of(
            message(sid=None, status=None, to_addr="not a number", price=None, body=None,
                    account_sid=None, raw_dlr_done_date="99")
        )
    )  # fmt: skip
    assert fields["SID"] == "—" and fields["Status"] == "—"
    assert fields["To"] == "not a number"  # shown as stored, not refused
    assert fields["Price"] == "—" and fields["Body"] == "—" and fields["Account"] == "—"
    assert fields["Error"] == "—" and fields["Resend of"] == "—"
    assert fields["Carrier receipt"] == "99 (unreadable)"


# -- load_detail through a real store ----------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "detail.db")
    try:
        yield s
    finally:
        await s.close()


def callback(
    status: str,
    at: float,
    *,
    token: str | None = None,
    signature: SignatureVerdict = SignatureVerdict.VALID,
    extra: tuple[tuple[str, str], ...] = (),
) -> IncomingEvent:
    params = (("MessageSid", SID), ("MessageStatus", status), *extra)
    return IncomingEvent(
        kind=EventKind.CALLBACK,
        facts=facts_from_callback(params),
        params=params,
        received_at=at,
        signature=signature,
        local_id="L1",
        idempotency_token=token,
        rejected_reason="signature invalid" if signature is SignatureVerdict.INVALID else None,
        checked_url="https://example.ngrok.app/message-status?lid=L1",
    )


async def test_detail_shows_a_duplicate_callback_counted(store: Store) -> None:
    message_id = await store.record_local(
        LocalMessage(
            local_id="L1",
            to_addr=TO,
            from_addr="+14155550111",
            messaging_service_sid=None,
            body="hi",
            created_at=10.0,
            media_urls=("https://e.com/a.png",),
            status_callback="https://example.ngrok.app/message-status?lid=L1",
        )
    )
    await store.ingest(callback("sent", 11.0, token="t-sent"))
    await store.ingest(callback("undelivered", 15.0, token="t-undelivered",
                                extra=(("ErrorCode", "30003"),)))  # fmt: skip
    await store.ingest(callback("undelivered", 45.0, token="t-undelivered"))  # Twilio retried
    await store.ingest(callback("delivered", 46.0, signature=SignatureVerdict.INVALID))

    detail = await load_detail(store, message_id)
    assert detail is not None
    assert detail.media == ("https://e.com/a.png",)
    assert detail.status_callback == "https://example.ngrok.app/message-status?lid=L1"
    assert detail.error is not None and detail.error.code == 30003
    sent, undelivered, forged = detail.timeline
    assert undelivered.duplicates == 1 and undelivered.last_duplicate_at == 45.0
    assert Mark.DUPLICATE in undelivered.marks and undelivered.applied
    assert undelivered.note.endswith("duplicate ×1 ignored")  # noqa: RUF001
    assert sent.in_state == 4.0 and detail.time_to_final == 4.0
    # The forged request claimed this message by SID and ?lid=: shown once, rejected.
    assert forged.marks == {Mark.REJECTED} and forged.signature is SignatureVerdict.INVALID
    assert detail.message.status is S.UNDELIVERED
    assert await load_detail(store, message_id + 100) is None


async def test_status_callback_falls_back_to_the_url_twilio_signed(store: Store) -> None:
    """A message not sent from here: its StatusCallback was never recorded, but a validly
    signed callback proves which URL Twilio called."""
    result = await store.ingest(callback("sent", 11.0))
    assert result.message_id is not None
    detail = await load_detail(store, result.message_id)
    assert detail is not None
    assert detail.status_callback == "https://example.ngrok.app/message-status?lid=L1"


@pytest.fixture
async def duplicating_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    """The local Twilio with every message delivered and every callback sent twice."""
    scenario = Scenario(name="doubled", delivered=1.0, duplicate=1.0)
    monkeypatch.setitem(PRESETS, "doubled", scenario)
    async with make_world(tmp_path, "doubled", receiver=True) as world:
        yield world


async def test_detail_of_a_message_sent_through_the_local_twilio(
    duplicating_world: World,
) -> None:
    w = duplicating_world
    result = await w.lifecycle.send(Draft(to=TO, body="hello from the test"))
    assert result.sid is not None
    await w.local.carrier.idle()

    detail = await load_detail(w.store, result.message_id)
    assert detail is not None and detail.message.status is S.DELIVERED
    stored = detail.message
    url = f"{w.lifecycle.public_url}/message-status?lid={stored.local_id}"
    assert detail.status_callback == url
    first = detail.timeline[0]
    assert first.kind is EventKind.CREATE and Mark.INITIAL in first.marks
    callbacks = [e for e in detail.timeline if e.kind is EventKind.CALLBACK]
    assert callbacks and all(e.duplicates == 1 for e in callbacks)
    assert all(e.signature is SignatureVerdict.VALID for e in callbacks)
    assert detail.timeline[-1].status == "delivered" and detail.time_to_final is not None
    offsets = [e.since_first for e in detail.timeline]
    assert offsets == sorted(offsets)
    fields = dict(fields_of(stored))
    assert fields["SID"] == result.sid and fields["To"] == f"{TO} (United States)"
