"""Ingestion: merge on out-of-order arrival, de-duplication, rejected and odd events."""

import asyncio
import json
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.domain.facts import MessageFacts, facts_from_resource
from tui.domain.status import MessageStatus, merge_all, parse_status
from tui.store import EventKind, IncomingEvent, LocalMessage, SignatureVerdict, Store
from tui.store.ingest import pairs_json

from .conftest import callback, sid

S = MessageStatus
TO = ("To", "+14155550100")


async def test_callback_for_unknown_sid_creates_the_message(store: Store) -> None:
    result = await store.ingest(callback(sid(1), "sent", extra=[TO, ("From", "+14155550111")]))
    assert not result.duplicate and result.changed and result.event_id is not None
    message = await store.get_message(sid=sid(1))
    assert message is not None
    assert message.status is S.SENT
    assert message.to_addr == "+14155550100" and message.from_addr == "+14155550111"
    assert message.id == result.message_id


async def test_late_sent_does_not_overwrite_delivered(store: Store) -> None:
    await store.ingest(callback(sid(1), "delivered", at=10))
    late = await store.ingest(callback(sid(1), "sent", at=11))
    assert late.status is S.DELIVERED and not late.changed
    message = await store.get_message(sid=sid(1))
    assert message is not None and message.status is S.DELIVERED
    events = await store.events_for(message.id)
    assert [(e.status, e.applied) for e in events] == [("delivered", True), ("sent", False)]
    assert message.last_seen == 11  # we did hear about it, even if it changed nothing


async def test_error_code_follows_the_status_that_carried_it(store: Store) -> None:
    await store.ingest(callback(sid(1), "undelivered", extra=[("ErrorCode", "30003")]))
    await store.ingest(callback(sid(1), "sent"))
    message = await store.get_message(sid=sid(1))
    assert message is not None and message.error_code == 30003


async def test_duplicate_token_is_stored_once(store: Store) -> None:
    first = await store.ingest(callback(sid(1), "sent", token="tok-1", at=1))
    # A retry: same token; even if some field differed, the token says it is the same.
    again = await store.ingest(callback(sid(1), "sent", token="tok-1", at=2, extra=[TO]))
    assert not first.duplicate and again.duplicate and again.event_id is None
    message = await store.get_message(sid=sid(1))
    assert message is not None
    assert len(await store.events_for(message.id)) == 1


async def test_duplicate_content_without_token_is_stored_once(store: Store) -> None:
    await store.ingest(callback(sid(1), "delivered", at=1))
    again = await store.ingest(callback(sid(1), "delivered", at=5))
    assert again.duplicate


async def test_duplicate_by_token_is_counted_on_the_original(store: Store) -> None:
    first = await store.ingest(callback(sid(1), "delivered", token="tok-1", at=1))
    for at in (4.0, 3.0):  # the later-arriving copy may commit first (two processes)
        again = await store.ingest(callback(sid(1), "delivered", token="tok-1", at=at))
        assert again.duplicate and again.event_id is None
    message = await store.get_message(sid=sid(1))
    assert message is not None
    (event,) = await store.events_for(message.id)
    assert event.id == first.event_id
    assert event.duplicates == 2 and event.last_duplicate_at == 4.0


async def test_duplicate_by_content_is_counted_on_the_original(store: Store) -> None:
    await store.ingest(callback(sid(1), "sent", at=1))
    await store.ingest(callback(sid(1), "delivered", at=2))
    await store.ingest(callback(sid(1), "delivered", at=7))  # no token: same content
    message = await store.get_message(sid=sid(1))
    assert message is not None
    events = await store.events_for(message.id)
    assert [(e.status, e.duplicates, e.last_duplicate_at) for e in events] == [
        ("sent", 0, None),
        ("delivered", 1, 7),
    ]


async def test_copies_inside_one_batch_are_counted(store: Store) -> None:
    events = [callback(sid(1), "sent", token="t", at=float(n)) for n in range(5)]
    events += [callback(sid(2), "sent", at=float(n)) for n in range(3)]  # by content
    results = await asyncio.gather(*(store.ingest(e) for e in events))
    assert sum(not r.duplicate for r in results) == 2
    for n, copies in ((1, 4), (2, 2)):
        message = await store.get_message(sid=sid(n))
        assert message is not None
        (event,) = await store.events_for(message.id)
        assert event.duplicates == copies and event.last_duplicate_at is not None


async def test_a_rejected_copy_is_not_counted_as_a_duplicate(store: Store) -> None:
    """A request that fails the signature check proves nothing, not even that Twilio sent
    it twice: it is stored as its own rejected event and the original's count stays."""
    await store.ingest(callback(sid(1), "delivered", token="tok-1"))
    forged = await store.ingest(
        callback(sid(1), "delivered", token="tok-1", signature=SignatureVerdict.INVALID)
    )
    assert forged.rejected and not forged.duplicate and forged.event_id is not None
    message = await store.get_message(sid=sid(1))
    assert message is not None
    (event,) = await store.events_for(message.id)
    assert event.duplicates == 0
    (kept,) = await store.rejected_events_for(sid(1), None)
    assert kept.id == forged.event_id and kept.duplicates == 0


async def test_rejected_events_for_finds_them_by_sid_or_local_id(store: Store) -> None:
    bad = SignatureVerdict.INVALID
    await store.ingest(callback(sid(1), "sent", signature=bad, at=1))
    await store.ingest(callback(None, "sent", local_id="L1", signature=bad, at=2))
    await store.ingest(callback(sid(1), "delivered", local_id="L1", signature=bad, at=3))
    await store.ingest(callback(sid(2), "sent", signature=bad, at=4))  # another message
    found = await store.rejected_events_for(sid(1), "L1")
    assert [e.received_at for e in found] == [1, 2, 3]  # oldest first, each once
    assert await store.rejected_events_for(None, None) == []
    newest = await store.rejected_events_for(sid(1), "L1", limit=2)
    assert [e.received_at for e in newest] == [2, 3]


async def test_same_sid_different_status_is_not_a_duplicate(store: Store) -> None:
    # The classic bug is de-duplicating on MessageSid alone; every transition must land.
    results = [await store.ingest(callback(sid(1), s)) for s in ("queued", "sent", "delivered")]
    assert not any(r.duplicate for r in results)
    message = await store.get_message(sid=sid(1))
    assert message is not None and message.status is S.DELIVERED
    assert len(await store.events_for(message.id)) == 3


async def test_duplicates_inside_one_batch(store: Store) -> None:
    events = [callback(sid(1), "sent", token="t") for _ in range(5)]
    results = await asyncio.gather(*(store.ingest(e) for e in events))
    assert sum(not r.duplicate for r in results) == 1


async def test_rejected_event_is_kept_but_never_applied(store: Store) -> None:
    forged = callback(sid(1), "delivered", signature=SignatureVerdict.INVALID)
    result = await store.ingest(forged)
    assert result.rejected and result.message_id is None and result.event_id is not None
    assert await store.get_message(sid=sid(1)) is None
    rejected = await store.rejected_events()
    assert len(rejected) == 1 and rejected[0].rejected_reason == "signature invalid"
    # The genuine callback with the same content must not be taken for a duplicate.
    genuine = await store.ingest(callback(sid(1), "delivered"))
    assert not genuine.duplicate and genuine.status is S.DELIVERED


async def test_rejected_event_keeps_the_url_that_was_checked(store: Store) -> None:
    event = callback(sid(1), "sent", signature=SignatureVerdict.MISSING)
    event = IncomingEvent(
        kind=event.kind,
        facts=event.facts,
        params=event.params,
        received_at=event.received_at,
        signature=event.signature,
        rejected_reason="no X-Twilio-Signature header",
        checked_url="https://example.ngrok.app/message-status",
    )
    await store.ingest(event)
    (kept,) = await store.rejected_events()
    assert kept.checked_url == "https://example.ngrok.app/message-status"
    assert kept.rejected_reason == "no X-Twilio-Signature header"


async def test_unknown_status_is_stored_flagged_and_changes_nothing(store: Store) -> None:
    await store.ingest(callback(sid(1), "sent"))
    result = await store.ingest(callback(sid(1), "teleported"))
    assert not result.status_known and result.status is S.SENT
    message = await store.get_message(sid=sid(1))
    assert message is not None and message.status is S.SENT
    events = await store.events_for(message.id)
    assert [(e.status, e.status_known) for e in events] == [("sent", True), ("teleported", False)]


async def test_unknown_status_for_unknown_sid_still_creates_a_row(store: Store) -> None:
    result = await store.ingest(callback(sid(2), "mystery", extra=[TO]))
    assert result.message_id is not None and result.status is None
    message = await store.get_message(sid=sid(2))
    assert message is not None and message.status is None and message.to_addr == TO[1]


async def test_hostile_text_is_stored_not_fatal(store: Store) -> None:
    body = "bad \udcff bytes \x00 nul \x1b[31m ansi"
    await store.ingest(callback(sid(3), "received", extra=[("Body", body)]))
    message = await store.get_message(sid=sid(3))
    assert message is not None and message.body is not None
    assert "\ufffd" in message.body and "\x1b[31m" in message.body  # stored as-is; UI sanitizes
    (event,) = await store.events_for(message.id)
    assert ("Body", body) in event.params  # the raw record is exact


async def test_local_send_is_matched_by_local_id_then_sid(store: Store) -> None:
    local = LocalMessage(
        local_id="L1",
        to_addr="+14155550100",
        from_addr="+14155550111",
        messaging_service_sid=None,
        body="hello",
        created_at=100,
        media_urls=("https://example.com/cat.png",),
    )
    message_id = await store.record_local(local)
    assert await store.record_local(local) == message_id  # idempotent
    pending = await store.get_message(local_id="L1")
    assert pending is not None and pending.sid is None and pending.status is None
    assert await store.media_for(message_id) == ["https://example.com/cat.png"]

    # A callback can beat the create response: it carries ?lid= and the SID.
    early = await store.ingest(callback(sid(9), "sent", local_id="L1", at=101))
    assert early.message_id == message_id
    created = IncomingEvent(
        kind=EventKind.CREATE,
        facts=facts_from_resource({"sid": sid(9), "status": "queued", "to": "+14155550100"}),
        params=(("sid", sid(9)), ("status", "queued")),
        received_at=100.5,
        local_id="L1",
    )
    assert (await store.ingest(created)).message_id == message_id
    later = await store.ingest(callback(sid(9), "delivered", at=102))
    assert later.message_id == message_id
    message = await store.get_message(id=message_id)
    assert message is not None
    assert message.sid == sid(9) and message.status is S.DELIVERED and message.body == "hello"


async def test_event_without_sid_or_local_id_is_kept_unattached(store: Store) -> None:
    result = await store.ingest(callback(None, "sent"))
    assert result.message_id is None and result.event_id is not None


async def test_redelivery_of_an_unattached_event_is_a_duplicate(store: Store) -> None:
    """De-duplication looks among the events of the batch's messages; one attached to
    no message must be found all the same, by token and by content."""
    await store.ingest(callback(None, "sent", token="loose-1", at=1))
    await store.ingest(callback(None, "failed", at=1))
    # A rejected copy (unattached, without keys) must not hide the original either.
    await store.ingest(callback(None, "failed", at=2, signature=SignatureVerdict.INVALID))
    by_token = await store.ingest(callback(None, "sent", token="loose-1", at=3, extra=[TO]))
    by_content = await store.ingest(callback(None, "failed", at=4))
    different = await store.ingest(callback(None, "delivered", at=5))
    assert by_token.duplicate and by_content.duplicate and not different.duplicate


async def test_concurrent_writers_share_commits(store: Store) -> None:
    events = [callback(sid(n), "sent") for n in range(300)]
    results = await asyncio.gather(*(store.ingest(e) for e in events))
    assert all(r.event_id is not None and not r.duplicate for r in results)
    assert len({r.event_id for r in results}) == 300
    batches, ops, largest = store.write_stats
    assert ops == 300 and batches < 300 and largest > 1
    counts = await store.count_by_status()
    assert counts == {S.SENT: 300}


async def test_a_bad_op_fails_alone(store: Store) -> None:
    good = [callback(sid(n), "sent") for n in range(20)]
    # An integer SQLite cannot hold: this event's write fails, its neighbours' must not.
    bad = IncomingEvent(
        kind=EventKind.FETCH,
        facts=MessageFacts(sid=sid(99), status_raw="sent", num_segments=2**70),
        params=(("sid", sid(99)),),
        received_at=1,
    )
    outcomes = await asyncio.gather(
        *(store.ingest(e) for e in [*good[:10], bad, *good[10:]]), return_exceptions=True
    )
    assert isinstance(outcomes[10], OverflowError)
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 20
    assert (await store.count_by_status()) == {S.SENT: 20}


async def test_acknowledged_writes_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store = await Store.open(path)
    await store.ingest(callback(sid(1), "delivered"))
    await store.close()
    # Another process reading the file directly sees it: it was committed, not buffered.
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT status FROM messages").fetchall() == [("delivered",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


HISTORIES = [
    ["queued", "sent", "delivered"],
    ["queued", "sending", "sent", "undelivered"],
    ["queued", "failed"],
    ["accepted", "queued", "sent", "delivered", "read"],
    ["scheduled", "canceled"],
]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_store_status_equals_merge_of_events(tmp_path_factory, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    """Any interleaving of several messages' callbacks, with repeats, delivered concurrently,
    leaves each message at the merge of its own history."""
    histories = data.draw(st.lists(st.sampled_from(HISTORIES), min_size=1, max_size=4))
    arrivals = [(n, s) for n, h in enumerate(histories) for s in h]
    arrivals += data.draw(st.lists(st.sampled_from(arrivals), max_size=6))
    arrivals = data.draw(st.permutations(arrivals))
    chunks = data.draw(st.integers(min_value=1, max_value=4))
    path = tmp_path_factory.mktemp("prop") / "m.db"

    async def run() -> None:
        async with await Store.open(path) as store:
            step = max(1, len(arrivals) // chunks)
            for i in range(0, len(arrivals), step):
                part = arrivals[i : i + step]
                await asyncio.gather(*(store.ingest(callback(sid(n), s)) for n, s in part))
            for n, history in enumerate(histories):
                message = await store.get_message(sid=sid(n))
                assert message is not None
                assert message.status == merge_all([parse_status(s) for s in history])

    asyncio.run(run())


# Any code point, lone surrogates included: a body that was not UTF-8 reaches the params
# as surrogate escapes, and its JSON must be the same text json.dumps would have written.
ANY_TEXT = st.text(st.characters(blacklist_categories=()))


@given(st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=12))
def test_pairs_json_is_json_dumps(pairs: list[tuple[str, str]]) -> None:
    assert pairs_json(tuple(pairs)) == json.dumps(tuple(pairs))
