"""The console's reads: keyset pages, filters, aggregates, stuck and changed messages."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from tui.domain.status import IN_FLIGHT, MessageStatus
from tui.store import Cursor, MessageFilter, Store, StoredMessage

from .conftest import callback, sid

S = MessageStatus
STATUSES = ["queued", "sent", "delivered", "undelivered", "failed"]
ERRORS = {"undelivered": ["30003", "30005"], "failed": ["30007"]}


async def fill(store: Store, n: int = 120, seed: int = 7) -> list[StoredMessage]:
    rnd = random.Random(seed)
    for i in range(n):
        status = rnd.choice(STATUSES)
        extra = [
            ("To", f"+1415555{i % 7:04d}"),
            ("From", "+14155550111" if i % 2 else "+447700900123"),
            ("Body", f"order {i} {'pizza' if i % 3 == 0 else 'tacos'}"),
        ]
        if status in ERRORS:
            extra.append(("ErrorCode", rnd.choice(ERRORS[status])))
        # Same created_at for pairs of rows, so the id tie-break is exercised.
        await store.ingest(callback(sid(i), status, at=1_000 + i // 2, extra=extra))
    page = await store.page(limit=5000)
    return list(page.rows)


def newest_first(rows: list[StoredMessage]) -> list[int]:
    return [m.id for m in sorted(rows, key=lambda m: (m.created_at, m.id), reverse=True)]


async def walk(store: Store, flt: MessageFilter, limit: int) -> list[int]:
    ids: list[int] = []
    cursor: Cursor | None = None
    while True:
        page = await store.page(flt, cursor, limit)
        ids += [m.id for m in page.rows]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def test_keyset_pages_cover_everything_once_newest_first(store: Store) -> None:
    rows = await fill(store)
    assert await walk(store, MessageFilter(), 17) == newest_first(rows)


@pytest.mark.parametrize(
    "flt_kwargs",
    [
        {"statuses": frozenset({S.DELIVERED})},
        {"statuses": frozenset({S.FAILED, S.UNDELIVERED})},  # the merged per-status walks
        {"statuses": frozenset({S.SENT, S.QUEUED, S.DELIVERED}), "from_addr": "+44"},
        {"error_codes": frozenset({30003})},
        {"to_addr": "+14155550003"},
        {"to_addr": "+1415555000"},  # a prefix
        {"text": "pizza"},
        {"text": "piz"},  # prefix match on a word
        {"text": "order 12"},
    ],
)
async def test_filters_match_a_brute_force_scan(store: Store, flt_kwargs: dict) -> None:  # type: ignore[type-arg]
    rows = await fill(store)
    flt = MessageFilter(**flt_kwargs)

    def keep(m: StoredMessage) -> bool:
        body = (m.body or "").split()
        return (
            (not flt.statuses or m.status in flt.statuses)
            and (not flt.error_codes or m.error_code in flt.error_codes)
            and (not flt.to_addr or (m.to_addr or "").startswith(flt.to_addr))
            and (not flt.from_addr or (m.from_addr or "").startswith(flt.from_addr))
            and (not flt.text or all(any(w.startswith(t) for w in body) for t in flt.text.split()))
        )

    expected = newest_first([m for m in rows if keep(m)])
    assert expected, "the fixture should match something"
    assert await walk(store, flt, 9) == expected


@pytest.mark.parametrize("text", ['"', "AND", "NEAR(", "*", "-x", "col:val", "''", "   "])
async def test_search_text_is_never_query_syntax(store: Store, text: str) -> None:
    await fill(store, n=10)
    page = await store.page(MessageFilter(text=text))
    assert isinstance(page.rows, tuple)


async def test_time_range(store: Store) -> None:
    rows = await fill(store, n=40)
    since = datetime.fromtimestamp(1_005, UTC)
    until = datetime.fromtimestamp(1_010, UTC)
    got = await walk(store, MessageFilter(since=since, until=until), 100)
    assert got == newest_first([m for m in rows if 1_005 <= m.created_at < 1_010])


async def test_counts_by_status_and_error(store: Store) -> None:
    rows = await fill(store)
    by_status = await store.count_by_status()
    assert sum(by_status.values()) == len(rows)
    for status, count in by_status.items():
        assert count == sum(1 for m in rows if m.status is status)
    by_error = await store.count_by_error()
    expected: dict[int, int] = {}
    for m in rows:
        if m.error_code is not None:
            expected[m.error_code] = expected.get(m.error_code, 0) + 1
    assert dict(by_error) == expected
    assert [n for _, n in by_error] == sorted(expected.values(), reverse=True)
    only_failed = await store.count_by_error(MessageFilter(statuses=frozenset({S.FAILED})))
    assert {code for code, _ in only_failed} <= {30007}


async def test_in_flight_older_than(store: Store) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    old = (now - timedelta(hours=13)).timestamp()
    await store.ingest(callback(sid(1), "sent", at=old))
    await store.ingest(callback(sid(2), "sent", at=now.timestamp() - 60))
    await store.ingest(callback(sid(3), "delivered", at=old))
    await store.ingest(callback(sid(4), "scheduled", at=old))
    stuck = await store.in_flight_older_than(now, timedelta(hours=12))
    assert [m.sid for m in stuck] == [sid(1)]


async def test_in_flight_older_than_pages_by_keyset(store: Store) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    old = (now - timedelta(hours=13)).timestamp()
    for n in range(7):  # ties on status_at are ordered by id
        await store.ingest(callback(sid(n), ("sent", "queued")[n % 2], at=old + n // 2))
    await store.ingest(callback(sid(9), "delivered", at=old))
    pages: list[list[str | None]] = []
    after = None
    while True:
        page = await store.in_flight_older_than(now, timedelta(hours=12), limit=3, after=after)
        if not page:
            break
        pages.append([m.sid for m in page])
        after = (page[-1].status_at, page[-1].id)
    assert pages == [[sid(0), sid(1), sid(2)], [sid(3), sid(4), sid(5)], [sid(6)]]


async def test_status_before_is_the_stuck_view(store: Store) -> None:
    """`status_before` filters on when the status was learned (status_at), not on when the
    message was created: with the in-flight statuses it is the console's stuck view, and
    agrees with `in_flight_older_than`."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cutoff = now - timedelta(hours=12)
    old = (now - timedelta(hours=13)).timestamp()
    await store.ingest(callback(sid(1), "sent", at=old))
    await store.ingest(callback(sid(2), "sent", at=now.timestamp() - 60))
    await store.ingest(callback(sid(3), "delivered", at=old))
    await store.ingest(callback(sid(4), "queued", at=old - 5))
    await store.ingest(callback(sid(5), "scheduled", at=old))
    # Created long ago, but its status moved a minute ago: not stuck.
    await store.ingest(callback(sid(6), "queued", at=old))
    await store.ingest(callback(sid(6), "sent", at=now.timestamp() - 60))

    async def sids(flt: MessageFilter) -> set[str | None]:
        return {m.sid for m in (await store.page(flt)).rows}

    stuck = MessageFilter(statuses=IN_FLIGHT, status_before=cutoff)
    assert await sids(stuck) == {sid(1), sid(4)}  # the per-status merged walks
    assert await sids(MessageFilter(statuses=frozenset({S.SENT}), status_before=cutoff)) == {sid(1)}
    assert await sids(MessageFilter(status_before=cutoff)) == {sid(1), sid(3), sid(4), sid(5)}
    assert await store.count_by_status(stuck) == {S.SENT: 1, S.QUEUED: 1}
    assert await sids(stuck) == {m.sid for m in await store.in_flight_older_than(now)}


async def test_changed_since_follows_visible_changes_only(store: Store) -> None:
    await store.ingest(callback(sid(1), "sent", at=1))
    await store.ingest(callback(sid(2), "sent", at=2))
    mark = max(m.change_seq for m in (await store.changed_since(0)))
    await store.ingest(callback(sid(1), "delivered", at=3))
    await store.ingest(callback(sid(2), "queued", at=4))  # stale: nothing visible moved
    changed = await store.changed_since(mark)
    assert [m.sid for m in changed] == [sid(1)]
    assert changed[0].status is S.DELIVERED


async def test_changed_since_names_a_message_once_at_its_latest_change(store: Store) -> None:
    # The change log keeps every change; a message changed twice is listed once, where
    # its last change put it, after a message that changed in between.
    await store.ingest(callback(sid(1), "queued", at=1))
    await store.ingest(callback(sid(2), "queued", at=2))
    await store.ingest(callback(sid(1), "delivered", at=3))
    changed = await store.changed_since(0)
    assert [m.sid for m in changed] == [sid(2), sid(1)]
    assert [m.change_seq for m in changed] == sorted(m.change_seq for m in changed)
    assert changed[-1].status is S.DELIVERED
    assert await store.max_change_seq() == changed[-1].change_seq
    assert await store.changed_since(changed[-1].change_seq) == []
    assert [m.sid for m in await store.changed_since(0, limit=1)] == [sid(2)]


async def test_data_version_moves_on_commit(store: Store) -> None:
    before = await store.data_version()
    await store.ingest(callback(sid(1), "sent"))
    assert await store.data_version() != before


async def fill_out_of_order(store: Store, n: int, late: int, seed: int) -> list[StoredMessage]:
    """`n` messages whose rowids follow creation time except for `late` of them, which are
    created late with old times (as a callback for an unseen, older message does)."""
    rnd = random.Random(seed)
    times = list(range(1_000, 1_000 + n))
    late_times = rnd.sample(times, late)
    late_set = set(late_times)
    on_time = [t for t in times if t not in late_set]
    for i, at in enumerate(on_time + late_times):
        words = rnd.choice(["tacos", "pizza", "tacos pizza", "tea"])
        await store.ingest(callback(sid(i), "sent", at=at, extra=[("Body", f"n{i} {words}")]))
    return list((await store.page(limit=5000)).rows)


@pytest.mark.parametrize("seed", range(6))
async def test_the_text_window_agrees_with_sorting_every_match(
    store: Store, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Pages of a body-words filter taken from the newest matches by rowid are exactly the
    pages a full sort gives, however rowids and creation times disagree; when the window
    cannot be proven to hold a page, the general query runs, and both paths are taken."""
    from tui.store import queries

    rnd = random.Random(seed)
    rows = await fill_out_of_order(store, n=150, late=rnd.choice([0, 3, 20]), seed=seed)
    monkeypatch.setattr(queries, "TEXT_WINDOW", rnd.choice([3, 10, 40, 2000]))
    outcomes: list[bool] = []
    window_page = queries._text_window_page

    async def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        found, common = await window_page(*args, **kwargs)
        outcomes.append(found is not None)
        return found, common

    monkeypatch.setattr(queries, "_text_window_page", spy)
    since = datetime.fromtimestamp(1_000 + rnd.randrange(150), UTC)
    for flt in [
        MessageFilter(text="tacos"),
        MessageFilter(text="pizza tac"),
        MessageFilter(text="tea", since=since),
    ]:
        expected = newest_first(
            [
                m
                for m in rows
                if all(
                    any(w.startswith(t) for w in (m.body or "").split())
                    for t in (flt.text or "").split()
                )
                and (flt.since is None or m.created_at >= flt.since.timestamp())
            ]
        )
        assert await walk(store, flt, rnd.choice([1, 7, 30])) == expected
    assert any(outcomes), "the window should serve some pages"


async def test_the_text_window_falls_back_when_a_late_message_belongs_on_the_page(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.store import queries

    for i in range(10):
        await store.ingest(callback(sid(i), "sent", at=1_000 + i, extra=[("Body", "tacos")]))
    # Created late (a high rowid) with a time between rows 4 and 5.
    await store.ingest(callback(sid(99), "sent", at=1_004.5, extra=[("Body", "tacos")]))
    await store.ingest(callback(sid(10), "sent", at=1_010, extra=[("Body", "tacos")]))
    monkeypatch.setattr(queries, "TEXT_WINDOW", 2)
    conn = store._reader
    match = queries.fts_query("tacos")
    assert match is not None
    flt = MessageFilter(text="tacos")
    # Window = the two highest rowids (sid 10 and sid 99): sid 99 sorts below rows the window
    # did not look at, so even a page of one (plus the row saying more follow) is not proven.
    for limit in (1, 3):
        found, common = await queries._text_window_page(conn, flt, match, None, limit)
        assert found is None and common
    page = await store.page(flt, limit=3)
    assert [m.sid for m in page.rows] == [sid(10), sid(9), sid(8)]
    assert await walk(store, flt, 1) == newest_first(list((await store.page(flt)).rows))
