"""Events made in the writer process (Store.ingest_prepared): refusals write nothing,
order is kept among plain events, and a failing prepare fails alone."""

import asyncio

from tui.domain.status import MessageStatus
from tui.store import Store
from tui.store.records import Prepared

from .conftest import callback, sid


def make_event(raw: tuple[int, str]) -> Prepared:
    """Module-level (pickled by reference): a callback, a refusal, or a failure."""
    n, status = raw
    if status == "refuse":
        return Prepared(None, ("refused", n))
    if status == "explode":
        raise ValueError(f"cannot prepare {n}")
    return Prepared(callback(sid(n), status), ("ok", n))


async def test_prepared_events_are_stored_and_their_notes_come_back(store: Store) -> None:
    outcome = await store.ingest_prepared(make_event, (1, "delivered"))
    assert outcome.note == ("ok", 1)
    assert outcome.result is not None and outcome.result.status is MessageStatus.DELIVERED
    message = await store.get_message(sid=sid(1))
    assert message is not None and message.id == outcome.result.message_id


async def test_a_refusal_stores_nothing(store: Store) -> None:
    outcome = await store.ingest_prepared(make_event, (2, "refuse"))
    assert outcome == (("refused", 2), None)
    assert await store.count_by_status() == {}
    assert await store.rejected_events() == []


async def test_mixed_batches_keep_each_answer_in_its_place(store: Store) -> None:
    # Plain events, prepared ones and refusals in one batch, in arrival order: each caller
    # gets its own answer, and the later "sent" does not undo the earlier "delivered".
    calls = [
        store.ingest(callback(sid(5), "delivered")),
        store.ingest_prepared(make_event, (6, "refuse")),
        store.ingest_prepared(make_event, (5, "sent")),
        store.ingest(callback(sid(7), "queued")),
        store.ingest_prepared(make_event, (8, "failed")),
    ]
    first, refused, late, plain, prepared = await asyncio.gather(*calls)
    assert first.status is MessageStatus.DELIVERED
    assert refused.note == ("refused", 6) and refused.result is None
    assert late.note == ("ok", 5) and late.result is not None
    assert late.result.status is MessageStatus.DELIVERED and not late.result.changed
    assert plain.status is MessageStatus.QUEUED
    assert prepared.result is not None and prepared.result.status is MessageStatus.FAILED
    _, ops, largest = store.write_stats
    assert ops == 5 and largest > 1
    assert await store.count_by_status() == {
        MessageStatus.DELIVERED: 1,
        MessageStatus.QUEUED: 1,
        MessageStatus.FAILED: 1,
    }


async def test_a_failing_prepare_fails_alone(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(
            store.ingest_prepared(make_event, (n, "explode" if n == 3 else "sent"))
            for n in range(6)
        ),
        return_exceptions=True,
    )
    assert isinstance(outcomes[3], ValueError)
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 5
    assert await store.count_by_status() == {MessageStatus.SENT: 5}
