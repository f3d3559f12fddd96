"""The triage report over a real store: groups, shares, trends, countries, senders, the
failure rate, the window, and the filter-bar queries that drill into each group."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.domain.facts import facts_from_callback
from tui.domain.status import DEFAULT_STUCK_AFTER, PROBLEM
from tui.services.filter_query import parse_query
from tui.services.triage import (
    PROBLEM_QUERY,
    ErrorGroup,
    TriageReport,
    build_report,
    country_name,
    country_of,
)
from tui.store import EventKind, IncomingEvent, SignatureVerdict, Store

NOW = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
T = NOW.timestamp()
UK1, UK2, UK3 = "+447700900123", "+447700900456", "+447700900789"
US1, US2 = "+14155550100", "+12125551234"
SENDER_A, SENDER_B = "+14155550111", "+14155550122"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "triage.db")
    try:
        yield s
    finally:
        await s.close()


class Traffic:
    """Status callbacks as Twilio sends them, one new message SID per `send`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.n = 0

    async def send(
        self,
        status: str,
        *,
        ago: float = 60,
        code: int | None = None,
        to: str = US1,
        frm: str = SENDER_A,
        sid: str | None = None,
    ) -> str:
        if sid is None:
            self.n += 1
            sid = f"SM{self.n:032x}"
        params = [("MessageSid", sid), ("MessageStatus", status), ("To", to), ("From", frm)]
        if code is not None:
            params.append(("ErrorCode", str(code)))
        await self.store.ingest(
            IncomingEvent(
                kind=EventKind.CALLBACK,
                facts=facts_from_callback(params),
                params=tuple(params),
                received_at=T - ago,
                signature=SignatureVerdict.VALID,
            )
        )
        return sid


@pytest.fixture
def traffic(store: Store) -> Traffic:
    return Traffic(store)


def group(report: TriageReport, code: int | None) -> ErrorGroup:
    return next(g for g in report.groups if g.error_code == code)


def drill(query: str):  # type: ignore[no-untyped-def]
    """What the filter bar makes of a drill-down query."""
    return parse_query(query, now=NOW, stuck_after=DEFAULT_STUCK_AFTER).filter


async def test_groups_by_error_code_most_first_with_shares(store: Store, traffic: Traffic) -> None:
    for to in (UK1, UK2, UK3, US1, US2):
        await traffic.send("undelivered", code=30007, to=to)
    await traffic.send("failed", code=30003)
    await traffic.send("undelivered", code=30003)
    await traffic.send("failed", code=21610)
    for _ in range(12):
        await traffic.send("delivered")
    await traffic.send("received", to=SENDER_A, frm=US1)  # inbound: not an outcome
    await traffic.send("sent")  # in flight: not an outcome yet

    report = await build_report(store, now=NOW)

    assert [(g.error_code, g.count) for g in report.groups] == [(30007, 5), (30003, 2), (21610, 1)]
    assert report.problems == 8
    assert report.finished == 20
    assert report.failure_rate == pytest.approx(8 / 20)
    assert [g.share for g in report.groups] == pytest.approx([5 / 8, 2 / 8, 1 / 8])
    assert report.since is None and report.generated_at == NOW
    carrier = group(report, 30007)
    assert carrier.info is not None and carrier.info.code == 30007
    assert carrier.label == carrier.info.title
    assert carrier.query == f"{PROBLEM_QUERY} error:30007"


async def test_equal_counts_are_ordered_by_code(store: Store, traffic: Traffic) -> None:
    for code in (30008, 30003, 30005):
        await traffic.send("undelivered", code=code)
    report = await build_report(store, now=NOW)
    assert [g.error_code for g in report.groups] == [30003, 30005, 30008]


async def test_countries_from_the_recipient_number(store: Store, traffic: Traffic) -> None:
    for to in (UK1, UK2, UK3, "whatsapp:+447700900999", US1, US2, "12345", "not a number"):
        await traffic.send("undelivered", code=30007, to=to)

    countries = group(await build_report(store, now=NOW), 30007).countries

    assert [(c.key, c.label, c.count) for c in countries] == [
        ("GB", "United Kingdom", 4),
        ("??", "unknown", 2),  # a short code and garbage: no country to name
        ("US", "United States", 2),
    ]
    assert [c.share for c in countries] == pytest.approx([4 / 8, 2 / 8, 2 / 8])
    uk, unknown, us = countries
    # Plain and WhatsApp numbers mixed: to: lists the plain ones (a prefix of the address).
    assert uk.query == f"{PROBLEM_QUERY} error:30007 to:+44"
    assert us.query == f"{PROBLEM_QUERY} error:30007 to:+1"
    assert unknown.query == f"{PROBLEM_QUERY} error:30007"


async def test_a_country_reached_only_on_whatsapp_drills_into_whatsapp(
    store: Store, traffic: Traffic
) -> None:
    await traffic.send("undelivered", code=63016, to="whatsapp:+447700900123")
    await traffic.send("undelivered", code=63016, to="whatsapp:+447700900456")
    (uk,) = group(await build_report(store, now=NOW), 63016).countries
    assert (uk.key, uk.count) == ("GB", 2)
    assert uk.query == f"{PROBLEM_QUERY} error:63016 to:whatsapp:+44"
    assert drill(uk.query).to_addr == "whatsapp:+44"


async def test_senders_as_stored(store: Store, traffic: Traffic) -> None:
    for _ in range(3):
        await traffic.send("undelivered", code=30003, frm=SENDER_A)
    await traffic.send("undelivered", code=30003, frm=SENDER_B)
    await traffic.send("undelivered", code=30003, frm="ACME Corp")

    senders = group(await build_report(store, now=NOW), 30003).senders

    assert [(s.key, s.label, s.count) for s in senders] == [
        (SENDER_A, SENDER_A, 3),
        (SENDER_B, SENDER_B, 1),  # equal counts: by sender
        ("ACME Corp", "ACME Corp", 1),
    ]
    assert [s.share for s in senders] == pytest.approx([0.6, 0.2, 0.2])
    assert senders[0].query == f"{PROBLEM_QUERY} error:30003 from:+14155550111"
    assert senders[2].query == f'{PROBLEM_QUERY} error:30003 from:"ACME Corp"'


async def test_problems_without_an_error_code_form_their_own_group(
    store: Store, traffic: Traffic
) -> None:
    await traffic.send("undelivered", code=30007)
    await traffic.send("undelivered", code=30007)
    await traffic.send("undelivered")  # the callback carried no ErrorCode
    await traffic.send("failed", code=0)  # "0" is how some payloads say "no error"

    report = await build_report(store, now=NOW)

    assert [(g.error_code, g.count) for g in report.groups] == [(30007, 2), (None, 2)]
    none = group(report, None)
    assert none.label == "no error code"
    assert none.info is None
    assert none.share == pytest.approx(0.5)
    assert none.query == PROBLEM_QUERY  # the filter bar cannot say "no code"
    assert [(c.key, c.count) for c in none.countries] == [("US", 2)]


async def test_trend_counts_the_last_hour_in_buckets_oldest_first(
    store: Store, traffic: Traffic
) -> None:
    await traffic.send("undelivered", code=30007, ago=3599)  # bucket 0
    await traffic.send("undelivered", code=30007, ago=3300)  # exactly 5 min in: bucket 1
    await traffic.send("undelivered", code=30007, ago=1800)  # bucket 6
    await traffic.send("undelivered", code=30007, ago=1)  # bucket 11
    await traffic.send("undelivered", code=30007, ago=2)  # bucket 11
    await traffic.send("undelivered", code=30007, ago=7200)  # before the trend
    await traffic.send("undelivered", code=30007, ago=-30)  # after `now`: not yet drawn
    await traffic.send("failed", code=30003, ago=600)  # bucket 10, its own row
    await traffic.send("delivered", ago=60)

    report = await build_report(store, now=NOW)

    assert group(report, 30007).count == 7  # no window: every problem is in the group
    assert group(report, 30007).trend == (1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2)
    assert group(report, 30003).trend == (0,) * 10 + (1, 0)


async def test_trend_window_and_bucket_count_are_the_callers(
    store: Store, traffic: Traffic
) -> None:
    await traffic.send("undelivered", code=30007, ago=5 * 3600)  # 24h in 6 buckets: bucket 4
    await traffic.send("undelivered", code=30007, ago=60)  # bucket 5
    report = await build_report(store, now=NOW, trend_window=timedelta(hours=24), buckets=6)
    assert group(report, 30007).trend == (0, 0, 0, 0, 1, 1)


async def test_window_keeps_only_outcomes_learned_inside_it(store: Store, traffic: Traffic) -> None:
    # Sent three hours ago, undelivered ten minutes ago: a failure of the last hour.
    late = await traffic.send("sent", ago=3 * 3600, to=UK1)
    await traffic.send("undelivered", ago=600, code=30003, to=UK1, sid=late)
    await traffic.send("failed", ago=2 * 3600, code=30007)  # outside the window
    await traffic.send("delivered", ago=300)
    await traffic.send("delivered", ago=2 * 3600)  # outside the window

    report = await build_report(store, now=NOW, window=timedelta(hours=1))

    assert report.since == NOW - timedelta(hours=1)
    assert [(g.error_code, g.count) for g in report.groups] == [(30003, 1)]
    assert (report.problems, report.finished) == (1, 2)
    assert report.failure_rate == pytest.approx(0.5)
    only = report.groups[0]
    assert only.share == 1.0
    assert only.query == f"{PROBLEM_QUERY} error:30003 since:1h"
    assert only.countries[0].query == f"{PROBLEM_QUERY} error:30003 to:+44 since:1h"

    everything = await build_report(store, now=NOW)
    assert (everything.problems, everything.finished) == (2, 4)


async def test_an_empty_store_has_no_groups_and_no_rate(store: Store) -> None:
    report = await build_report(store, now=NOW, window=timedelta(minutes=15))
    assert report.groups == ()
    assert (report.problems, report.finished, report.failure_rate) == (0, 0, None)


async def test_every_query_means_what_its_group_holds(store: Store, traffic: Traffic) -> None:
    await traffic.send("undelivered", code=30007, to=UK1, frm="ACME Corp")
    await traffic.send("failed", code=30007, to=US1, frm=SENDER_B)
    report = await build_report(store, now=NOW, window=timedelta(minutes=90))

    g = group(report, 30007)
    flt = drill(g.query)
    assert flt.statuses == PROBLEM
    assert flt.error_codes == {30007}
    assert flt.since == NOW - timedelta(minutes=90)
    uk = next(c for c in g.countries if c.key == "GB")
    assert drill(uk.query).to_addr == "+44"
    acme = next(s for s in g.senders if s.key == "ACME Corp")
    assert drill(acme.query).from_addr == "ACME Corp"
    # And the store lists exactly the group's messages for each of them.
    for query, expected in ((g.query, 2), (uk.query, 1), (acme.query, 1)):
        page = await store.page(drill(query))
        assert len(page.rows) == expected, query


def test_country_of_strips_the_channel_and_names_the_country() -> None:
    assert country_of("+447700900123") == "GB"
    assert country_of("whatsapp:+447700900123") == "GB"
    assert country_of("+14155550100") == "US"
    assert country_of("+4930123456") == "DE"
    for nothing in (None, "", "12345", "hello", "+0123"):
        assert country_of(nothing) == "??"
    assert country_name("GB") == "United Kingdom"
    assert country_name("??") == "unknown"


async def test_bad_arguments_are_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        await build_report(store, now=NOW, buckets=0)
    with pytest.raises(ValueError):
        await build_report(store, now=NOW, trend_window=timedelta(0))
    with pytest.raises(ValueError):
        await build_report(store, now=NOW, window=timedelta(seconds=-1))
