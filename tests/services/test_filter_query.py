"""The filter bar's query language: what each term means, what each mistake says and
underlines, what completion offers, and that nothing typed can crash the parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.errors import CATALOG
from tui.domain.status import IN_FLIGHT, PROBLEM, TERMINAL, MessageStatus
from tui.services.filter_query import (
    KEYS,
    PRESETS,
    Completion,
    ParsedQuery,
    QueryError,
    complete,
    describe,
    parse_query,
)
from tui.store import MessageFilter

S = MessageStatus
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STUCK_AFTER = timedelta(hours=12)


def parse(text: str) -> ParsedQuery:
    return parse_query(text, now=NOW, stuck_after=STUCK_AFTER)


def flt(**kwargs: Any) -> MessageFilter:
    return MessageFilter(**kwargs)


# --- Parsing: every key --------------------------------------------------------------------

PARSES: list[tuple[str, MessageFilter]] = [
    ("", flt()),
    ("   ", flt()),
    # status: single, list, case, groups, union over repeats, empty items while typing
    ("status:undelivered", flt(statuses=frozenset({S.UNDELIVERED}))),
    ("status:undelivered,failed", flt(statuses=frozenset({S.UNDELIVERED, S.FAILED}))),
    ("STATUS:Delivered", flt(statuses=frozenset({S.DELIVERED}))),
    ("status:partially_delivered", flt(statuses=frozenset({S.PARTIALLY_DELIVERED}))),
    ("status:problem", flt(statuses=PROBLEM)),
    ("status:inflight", flt(statuses=IN_FLIGHT)),
    ("status:in-flight", flt(statuses=IN_FLIGHT)),
    ("status:final", flt(statuses=TERMINAL)),
    ("status:problem,sent", flt(statuses=PROBLEM | {S.SENT})),
    ("status:failed status:sent", flt(statuses=frozenset({S.FAILED, S.SENT}))),
    ("status:failed,", flt(statuses=frozenset({S.FAILED}))),
    ('status:"failed, sent"', flt(statuses=frozenset({S.FAILED, S.SENT}))),
    # error:
    ("error:30007", flt(error_codes=frozenset({30007}))),
    ("error:30007,30003 error:21610", flt(error_codes=frozenset({30007, 30003, 21610}))),
    ("error:030007", flt(error_codes=frozenset({30007}))),
    ("error:99999", flt(error_codes=frozenset({99999}))),  # not in the catalog: still fine
    # to: / from: prefixes, normalised when phone-like
    ("to:+44", flt(to_addr="+44")),
    ("from:+1415", flt(from_addr="+1415")),
    ('to:"+1 (415) 555-01"', flt(to_addr="+141555501")),
    ("to:+1-415", flt(to_addr="+1415")),
    ("to:whatsapp:+1", flt(to_addr="whatsapp:+1")),
    ('to:WhatsApp:"+44 77"', flt(to_addr="whatsapp:+4477")),
    ("from:My-Shop", flt(from_addr="My-Shop")),  # an alphanumeric sender keeps its dash
    ("from:12345", flt(from_addr="12345")),  # short code
    # since: / until:
    ("since:30s", flt(since=NOW - timedelta(seconds=30))),
    ("since:15m", flt(since=NOW - timedelta(minutes=15))),
    ("since:1h", flt(since=NOW - timedelta(hours=1))),
    ("SINCE:2D", flt(since=NOW - timedelta(days=2))),
    ("since:1w", flt(since=NOW - timedelta(weeks=1))),
    ("since:1h30m", flt(since=NOW - timedelta(hours=1, minutes=30))),
    ("since:2026-01-15", flt(since=datetime(2026, 1, 15, tzinfo=UTC))),
    ("since:2026-01-15T10:30", flt(since=datetime(2026, 1, 15, 10, 30, tzinfo=UTC))),
    ("since:2026-01-15T10:30+02:00", flt(since=datetime(2026, 1, 15, 8, 30, tzinfo=UTC))),
    ("since:2026-01-15T10:30Z", flt(since=datetime(2026, 1, 15, 10, 30, tzinfo=UTC))),
    ("until:1h", flt(until=NOW - timedelta(hours=1))),
    # a bare date in until: includes that day
    ("until:2026-01-15", flt(until=datetime(2026, 1, 16, tzinfo=UTC))),
    ("until:2026-01-15T10:30", flt(until=datetime(2026, 1, 15, 10, 30, tzinfo=UTC))),
    (
        "since:2026-01-15 until:2026-01-15",
        flt(since=datetime(2026, 1, 15, tzinfo=UTC), until=datetime(2026, 1, 16, tzinfo=UTC)),
    ),
    # text: and bare words
    ('text:"order 123"', flt(text="order 123")),
    ("text:pizza", flt(text="pizza")),
    ("order 123", flt(text="order 123")),
    ('text:pizza "order   123" late', flt(text="pizza order 123 late")),
    ('text:"say \\"hi\\""', flt(text='say "hi"')),
    ('"re:order"', flt(text="re:order")),  # quoted: text, not a key
    ('"stuck"', flt(text="stuck")),  # quoted: text, not the keyword
    ("text:stuck", flt(text="stuck")),
    ('""', flt()),
    # dir:
    ("dir:in", flt(direction="inbound")),
    ("dir:inbound", flt(direction="inbound")),
    ("DIR:OUT", flt(direction="outbound")),
    ("dir:outbound", flt(direction="outbound")),
    # everything at once
    (
        'status:undelivered,failed error:30007 to:+44 from:+1415 since:1h text:"order 123" dir:in',
        flt(
            statuses=frozenset({S.UNDELIVERED, S.FAILED}),
            error_codes=frozenset({30007}),
            to_addr="+44",
            from_addr="+1415",
            since=NOW - timedelta(hours=1),
            text="order 123",
            direction="inbound",
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), PARSES)
def test_parses(text: str, expected: MessageFilter) -> None:
    parsed = parse(text)
    assert parsed.filter == expected
    assert parsed.text == text
    assert parsed.stuck is False


STUCK_BEFORE = NOW - STUCK_AFTER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stuck", flt(statuses=IN_FLIGHT, status_before=STUCK_BEFORE)),
        ("STUCK", flt(statuses=IN_FLIGHT, status_before=STUCK_BEFORE)),
        ("stuck stuck", flt(statuses=IN_FLIGHT, status_before=STUCK_BEFORE)),
        ("status:sent stuck", flt(statuses=frozenset({S.SENT}), status_before=STUCK_BEFORE)),
        ("stuck status:inflight", flt(statuses=IN_FLIGHT, status_before=STUCK_BEFORE)),
        (
            "stuck dir:in to:+44",
            flt(statuses=IN_FLIGHT, status_before=STUCK_BEFORE, direction="inbound", to_addr="+44"),
        ),
    ],
)
def test_stuck(text: str, expected: MessageFilter) -> None:
    parsed = parse(text)
    assert parsed.stuck is True
    assert parsed.filter == expected


def test_stuck_threshold_and_now_come_from_the_caller() -> None:
    parsed = parse_query("stuck", now=NOW, stuck_after=timedelta(minutes=30))
    assert parsed.filter.status_before == NOW - timedelta(minutes=30)


def test_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    parsed = parse_query("since:1h", now=naive, stuck_after=STUCK_AFTER)
    assert parsed.filter.since == NOW - timedelta(hours=1)
    naive_date = parse("since:2026-01-15T10:30").filter.since
    assert naive_date is not None and naive_date.tzinfo is not None


# --- Parsing: every error, with its wording and span ---------------------------------------

ERRORS: list[tuple[str, str, str]] = [
    # (query, words the message must contain, the text the span underlines)
    ("stauts:failed", "did you mean status:?", "stauts:"),
    ("stat:failed", "did you mean status:?", "stat:"),
    ("direction:in", "did you mean dir:?", "direction:"),
    ("eror:30007", "did you mean error:?", "eror:"),
    ("stuk:1", "did you mean stuck (with no value)?", "stuk:"),
    ("re:order", 'quote it: "re:"', "re:"),
    ("stuck:yes", "stuck takes no value", "stuck:yes"),
    ("status:deliverd", "unknown status 'deliverd': did you mean delivered?", "deliverd"),
    ("status:failed,undelivred", "did you mean undelivered?", "undelivred"),
    ("status:xyzzy", "unknown status 'xyzzy': use one of accepted", "xyzzy"),
    ("status:", "status: needs a status", "status:"),
    ("status:,", "status: needs a status", "status:,"),
    ("error:", "error: needs an error code", "error:"),
    ("error:abc", "error code 'abc' is not a number", "abc"),
    ("error:30007,3o007", "error code '3o007' is not a number", "3o007"),
    ("error:-5", "is not a number", "-5"),
    ("error:0", "is not a Twilio error code", "0"),
    ("error:1234567", "is not a Twilio error code", "1234567"),
    ("since:3x", "since: does not understand '3x'", "3x"),
    ("since:1 h", "since: does not understand '1'", "1"),
    ("until:yesterday", "until: does not understand 'yesterday'", "yesterday"),
    ("since:2026-13-01", "does not understand", "2026-13-01"),
    ("since:", "since: needs a value", "since:"),
    ("since:99999999999w", "out of range", "99999999999w"),
    ("until:9999-12-31", "out of range", "9999-12-31"),
    ('text:"order 123', "unterminated quote", '"order 123'),
    ('status:failed "abc', "unterminated quote", '"abc'),
    ("text:", "text: needs a value", "text:"),
    ('text:"  "', "text: needs a value", 'text:"  "'),
    ("to:", "to: needs a value", "to:"),
    ("from:", "from: needs a value", "from:"),
    ("dir:", "dir: needs a value", "dir:"),
    ("dir:inn", "unknown direction 'inn': did you mean dir:in?", "inn"),
    ("dir:sideways", "use dir:in or dir:out", "sideways"),
    ("to:+44 to:+1", "to: is given twice", "to:+1"),
    ("from:+44 status:sent from:+1", "from: is given twice", "from:+1"),
    ("dir:in dir:out", "dir: is given twice", "dir:out"),
    ("since:1h since:2h", "since: is given twice", "since:2h"),
    ("until:1h until:2h", "until: is given twice", "until:2h"),
    ("since:1h until:2h", "since: is not before until:", "until:2h"),
    ("until:2h since:1h", "since: is not before until:", "since:1h"),
    ("status:delivered stuck", "stuck means still in flight", "delivered"),
    ("stuck status:sent,failed", "'failed' is not", "failed"),
    ("status:problem stuck", "'problem' is not", "problem"),
    ("status:final stuck", "'final' is not", "final"),
]


@pytest.mark.parametrize(("text", "wording", "underlined"), ERRORS)
def test_errors_say_what_and_where(text: str, wording: str, underlined: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    err = info.value
    assert wording in err.message
    assert str(err) == err.message
    assert text[err.start : err.end] == underlined
    assert isinstance(err, ValueError)


def test_stuck_error_lists_the_in_flight_statuses() -> None:
    with pytest.raises(QueryError) as info:
        parse("status:delivered stuck")
    for status in IN_FLIGHT:
        assert status.value in info.value.message


def test_unknown_key_lists_the_keys_when_nothing_is_close() -> None:
    with pytest.raises(QueryError) as info:
        parse("http://example.com")
    assert "status:" in info.value.message and "dir:" in info.value.message


def test_every_error_is_one_sentence() -> None:
    for text, _, _ in ERRORS:
        with pytest.raises(QueryError) as info:
            parse(text)
        message = info.value.message
        assert message.endswith((".", "?")), message
        assert "\n" not in message


# --- Presets and describe ------------------------------------------------------------------


def test_presets_parse() -> None:
    assert PRESETS["undelivered"] == "status:undelivered,failed"
    assert PRESETS["stuck"] == "stuck"
    assert PRESETS["inbound"] == "dir:in"
    assert PRESETS["errors last hour"] == "status:undelivered,failed since:1h"
    assert PRESETS["scheduled"] == "status:scheduled"
    for name, query in PRESETS.items():
        parsed = parse(query)
        assert parsed.filter != MessageFilter() or parsed.stuck, name


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("", "all messages"),
        (
            "status:undelivered,failed to:+44 since:1h",
            "status failed|undelivered, to +44…, last 1h",
        ),
        ("status:problem", "status problem"),
        ("stuck", "stuck"),
        ("stuck status:sent", "stuck, status sent"),
        ("error:30007,30003 from:+1415", "error 30003|30007, from +1415…"),
        ('text:"order 123" dir:in', 'text "order 123", inbound'),
        ("dir:out", "outbound"),
        ("since:2026-01-15 until:2026-01-20", "since 2026-01-15, until 2026-01-20"),
        ("until:2h", "older than 2h"),
    ],
)
def test_describe(text: str, summary: str) -> None:
    assert describe(parse(text)) == summary


def test_describe_a_filter_built_by_hand() -> None:
    parsed = ParsedQuery(
        text="",
        filter=MessageFilter(since=datetime(2026, 1, 15, 9, 5, tzinfo=UTC)),
        stuck=False,
    )
    assert describe(parsed) == "since 2026-01-15 09:05 UTC"


# --- Completion ----------------------------------------------------------------------------


def labels(text: str, cursor: int | None = None) -> list[str]:
    return [c.label for c in complete(text, len(text) if cursor is None else cursor)]


def accept(text: str, label: str, cursor: int | None = None) -> Completion:
    candidates = complete(text, len(text) if cursor is None else cursor)
    return next(c for c in candidates if c.label == label)


def test_empty_query_offers_every_key() -> None:
    assert labels("") == [k if k == "stuck" else f"{k}:" for k in KEYS]
    assert labels("status:failed ") == labels("")


def test_keys_complete_by_prefix() -> None:
    assert labels("st") == ["status:", "stuck"]
    assert labels("S") == ["status:", "since:", "stuck"]
    assert labels("e") == ["error:"]
    assert labels("hello") == []  # body text: nothing to offer
    chosen = accept("st", "status:")
    assert (chosen.replacement, chosen.cursor) == ("status:", 7)
    assert chosen.help == KEYS["status"]
    stuck = accept("to:+44 stu", "stuck")
    assert (stuck.replacement, stuck.cursor) == ("to:+44 stuck", 12)


def test_key_completion_replaces_only_the_token_under_the_cursor() -> None:
    chosen = accept("to:+44 fr dir:in", "from:", cursor=9)
    assert (chosen.replacement, chosen.cursor) == ("to:+44 from: dir:in", 12)
    # Editing the key of a key:value term keeps the value.
    chosen = accept("sta:failed", "status:", cursor=3)
    assert (chosen.replacement, chosen.cursor) == ("status:failed", 7)
    assert "stuck" not in labels("sta:failed", 3)  # stuck takes no value


def test_statuses_complete_the_last_comma_item() -> None:
    assert labels("status:") == [f"status:{s.value}" for s in MessageStatus] + [
        "status:problem",
        "status:inflight",
        "status:final",
    ]
    assert labels("status:f") == ["status:failed", "status:final"]
    chosen = accept("status:undelivered,fa", "status:failed")
    assert (chosen.replacement, chosen.cursor) == ("status:undelivered,failed", 25)
    assert chosen.help
    undelivered = accept("status:und", "status:undelivered")
    assert undelivered.help == "did not reach the handset"
    # Statuses already in the list are not offered again.
    assert "status:undelivered" not in labels("status:undelivered,")
    after_comma = accept("status:failed, dir:in", "status:sent", cursor=14)
    assert after_comma.replacement == "status:failed,sent dir:in"
    assert after_comma.cursor == 18


def test_status_completion_in_the_middle_of_a_list() -> None:
    chosen = accept("status:se,failed", "status:sent", cursor=9)
    assert (chosen.replacement, chosen.cursor) == ("status:sent,failed", 11)


def test_status_completion_inside_quotes_keeps_them() -> None:
    chosen = accept('status:"fa"', "status:failed", cursor=10)
    assert chosen.replacement == 'status:"failed"'


def test_errors_complete_from_the_catalog() -> None:
    offered = complete("error:300", 9)
    assert offered, "the catalog has 300xx codes"
    assert [c.label for c in offered] == [
        f"error:{code}" for code in sorted(CATALOG) if str(code).startswith("300")
    ]
    first = offered[0]
    assert first.help == CATALOG[int(first.label.removeprefix("error:"))].title
    chosen = accept("error:3000", "error:30007")
    assert (chosen.replacement, chosen.cursor) == ("error:30007", 11)
    assert chosen.help == "Carrier violation"
    assert labels("error:30007,3000").count("error:30007") == 0
    assert labels("error:x") == []


def test_times_and_directions() -> None:
    assert labels("since:") == ["since:15m", "since:1h", "since:6h", "since:24h", "since:7d"]
    assert labels("since:1") == ["since:15m", "since:1h"]
    assert accept("since:", "since:1h").help == "the last 1 hour"
    assert labels("until:2") == ["until:24h"]
    assert labels("dir:") == ["dir:in", "dir:out"]
    chosen = accept("stuck dir:o", "dir:out")
    assert (chosen.replacement, chosen.cursor) == ("stuck dir:out", 13)


def test_free_values_offer_nothing() -> None:
    assert labels("to:") == []
    assert labels("from:+44") == []
    assert labels("text:ord") == []
    assert labels('"quoted') == []


def test_every_completion_parses_or_is_a_key_prefix() -> None:
    """Accepting a value completion always leaves a query that parses."""
    for text in ["status:", "status:failed,", "error:3", "since:", "until:", "dir:", "stuck "]:
        for candidate in complete(text, len(text)):
            if candidate.label.endswith(":"):
                continue
            parse(candidate.replacement)


# --- Robustness ----------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        *(k + ":" for k in KEYS),
        "stuck",
        "STATUS:",
        '"',
        "\\",
        '\\"',
        ",",
        ":",
        " ",
        "\t",
        "failed",
        "inflight",
        "problem",
        "30007",
        "0",
        "9" * 40,
        "1h",
        "99999999999w",
        "2026-01-15",
        "9999-12-31",
        "0001-01-01",
        "T10:00+14:00",
        "+44",
        "whatsapp:",
        "(",
        "-",
        "in",
        "out",
        "\u00a0",
        "\u0662",  # an Arabic-Indic digit: isdigit() but not ASCII
    ]
)
QUERIES = st.one_of(st.text(), st.lists(FRAGMENTS | st.text(max_size=3)).map("".join))


@given(QUERIES)
def test_parse_returns_or_raises_query_error_only(text: str) -> None:
    try:
        parsed = parse(text)
    except QueryError as err:
        assert 0 <= err.start <= err.end <= len(text)
        assert err.message
    else:
        assert parsed.text == text
        assert isinstance(describe(parsed), str)


@given(QUERIES, st.integers(min_value=-3, max_value=200))
def test_complete_never_raises(text: str, cursor: int) -> None:
    for candidate in complete(text, cursor):
        assert 0 <= candidate.cursor <= len(candidate.replacement)
        assert candidate.label
