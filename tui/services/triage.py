"""The triage report: why messages are not reaching handsets, grouped for a person at 3 a.m.

Owns turning the store's triage aggregates (tui/store/triage_queries.py) into what the
triage view shows: problem messages (failed, undelivered, partially delivered) grouped by
error code, each group with its share, the error catalog's explanation, a trend of
equal time buckets (oldest first), its destination countries and its senders, and for
every group and breakdown the filter-bar query that drills into those messages
(tui/services/filter_query.py parses it). Also the failure rate over all delivery outcomes.
No Textual and no timers here: the view calls `build_report` from its background refresh.

Countries come from the recipient number (`parse_to`, phonenumbers), not from SQL, and
that lookup is slow (measured 0.15-0.2 ms a number), so its answer is cached per distinct
recipient and the Python half of a report runs in a worker thread: the first report over
tens of thousands of numbers not seen before takes seconds and must not freeze the screen.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import phonenumbers

from tui.domain.addresses import AddressKind, parse_to
from tui.domain.country_names import region_name
from tui.domain.errors import ErrorInfo, explain
from tui.store import Store
from tui.store.triage_queries import FailureGroupRow

__all__ = [
    "NO_CODE_LABEL",
    "PROBLEM_QUERY",
    "UNKNOWN_COUNTRY",
    "Breakdown",
    "ErrorGroup",
    "TriageReport",
    "build_report",
    "country_name",
    "country_of",
]

# The filter-bar words for "a problem status", in the order a person reads them.
PROBLEM_QUERY = "status:undelivered,failed,partially_delivered"
UNKNOWN_COUNTRY = "??"  # short codes, malformed numbers, no recipient at all
NON_GEOGRAPHIC = "001"  # phonenumbers' region for +800, +882 and the like
NO_CODE_LABEL = "no error code"

# Distinct recipients remembered. At 0.15-0.2 ms a lookup, 65,536 numbers cost 10-13 s of
# CPU to learn once and about 15 MB to keep; a window over more distinct failing numbers
# than this re-learns some on every refresh (the report stays right, only slower).
_COUNTRY_CACHE_SIZE = 65_536
# `whatsapp:+44...`, `rcs:+1...`: the channel in front of the number.
_CHANNEL = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One country or sender within an error group."""

    key: str  # ISO region code ("GB", "??" unknown, "001" non-geographic) or from_addr
    label: str  # country name, or the sender as stored ("unknown" when there is none)
    count: int
    share: float  # of the error group's messages, 0..1
    query: str  # filter-bar text that lists these messages


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Problem messages that share an error code (None: the outcome carried no code)."""

    error_code: int | None
    count: int
    share: float  # of all problem messages in the window, 0..1
    info: ErrorInfo | None  # the catalog's explanation; None without a code
    trend: tuple[int, ...]  # problems per time bucket, oldest first, len == buckets
    countries: tuple[Breakdown, ...]  # most first
    senders: tuple[Breakdown, ...]  # most first
    query: str  # filter-bar text that lists this group's messages

    @property
    def label(self) -> str:
        if self.error_code is None:
            return NO_CODE_LABEL
        return self.info.title if self.info is not None else f"error {self.error_code}"


@dataclass(frozen=True, slots=True)
class TriageReport:
    groups: tuple[ErrorGroup, ...]  # most messages first, then by code
    problems: int  # problem messages in the window (the sum of the groups)
    finished: int  # outbound messages with a delivery outcome in the window
    failure_rate: float | None  # problems among finished, 0..1; None when none finished
    since: datetime | None  # start of the window; None = all time
    generated_at: datetime


# --- Countries -----------------------------------------------------------------------------


def _split_channel(address: str) -> tuple[str, str]:
    """("whatsapp:", "+44...") for a channel address, ("", address) otherwise."""
    match = _CHANNEL.fullmatch(address.strip())
    if match is None:
        return "", address
    return f"{match.group(1)}:", match.group(2)


@lru_cache(maxsize=_COUNTRY_CACHE_SIZE)
def _destination(to_addr: str) -> tuple[str, str]:
    """(region code or "??", channel prefix or "") of a recipient as stored."""
    channel, number = _split_channel(to_addr)
    try:
        # Not strict: a possible but unassigned number (+1 555 ...) still has a country.
        address = parse_to(number, strict=False)
    except ValueError:  # AddressError: not a number Twilio would send to
        return UNKNOWN_COUNTRY, channel
    if address.kind is AddressKind.SHORT_CODE:
        return UNKNOWN_COUNTRY, channel  # short codes are national, but the nation is unsaid
    region = address.region_code
    return (region if region and region != "ZZ" else UNKNOWN_COUNTRY), channel


_NOWHERE = (UNKNOWN_COUNTRY, "")


def country_of(to_addr: str | None) -> str:
    """The ISO region code of a recipient as stored (channel prefix ignored), or "??"."""
    return _destination(to_addr)[0] if to_addr else UNKNOWN_COUNTRY


def country_name(region: str) -> str:
    """English name of a region code: "GB" -> "United Kingdom"; "??" -> "unknown"."""
    if region == UNKNOWN_COUNTRY:
        return "unknown"
    if region == NON_GEOGRAPHIC:
        return "non-geographic"
    return region_name(region) or region


def _calling_code(region: str) -> int | None:
    code = phonenumbers.country_code_for_region(region)
    return int(code) if code else None  # 0 for "??", "001" and unknown regions


# --- Queries -------------------------------------------------------------------------------


def _quoted(value: str) -> str:
    """A filter-bar value: as is, or double-quoted with \\ and " escaped when it holds
    whitespace or quotes (alphanumeric sender IDs may have spaces)."""
    if value and not any(c.isspace() or c in '"\\' for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _duration(window: timedelta) -> str:
    """A filter-bar duration covering `window`: 1h, 1d, 1h30m (whole seconds, rounded up)."""
    seconds = int(window.total_seconds() + 0.999_999)
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "1s"


def _query(
    code: int | None,
    since: str | None,
    *,
    to_prefix: str | None = None,
    from_addr: str | None = None,
) -> str:
    # The query language cannot say "no error code", so the None group's query lists
    # every problem message (of the window).
    parts = [PROBLEM_QUERY]
    if code is not None:
        parts.append(f"error:{code}")
    if to_prefix:
        parts.append(f"to:{_quoted(to_prefix)}")
    if from_addr:
        parts.append(f"from:{_quoted(from_addr)}")
    if since:
        # since: filters on creation, the window on the outcome; a message sent before the
        # window that failed inside it is counted here but not listed. Close, and it keeps
        # last month's failures out of last hour's drill-down.
        parts.append(f"since:{since}")
    return " ".join(parts)


# --- Assembly ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    count: int = 0
    countries: dict[str, int] = field(default_factory=dict)
    # Per country, the channel prefix all its recipients share, or "" when they differ.
    channels: dict[str, str] = field(default_factory=dict)
    senders: dict[str, int] = field(default_factory=dict)  # "" for no sender


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _countries(code: int | None, group: _Group, since: str | None) -> tuple[Breakdown, ...]:
    out = []
    for region, n in _ranked(group.countries):
        calling = _calling_code(region)
        # to: is a prefix of the stored address, so a channel is part of it; when a
        # country's recipients mix channels, the plain numbers are the ones listed.
        prefix = None if calling is None else f"{group.channels[region]}+{calling}"
        query = _query(code, since, to_prefix=prefix)
        out.append(Breakdown(region, country_name(region), n, n / group.count, query))
    return tuple(out)


def _senders(code: int | None, group: _Group, since: str | None) -> tuple[Breakdown, ...]:
    return tuple(
        Breakdown(
            key, key or "unknown", n, n / group.count, _query(code, since, from_addr=key or None)
        )
        for key, n in _ranked(group.senders)
    )


def _assemble(
    rows: Sequence[FailureGroupRow],
    trend_rows: Sequence[tuple[int | None, int, int]],
    buckets: int,
    since: str | None,
) -> tuple[tuple[ErrorGroup, ...], int]:
    """The groups, most first, and the problem count. CPU only: runs in a worker thread.

    Written for tens of thousands of rows (an all-time window): plain dict arithmetic and
    one cached lookup per row. Measured at 50,000 rows: 32 ms once the countries are
    cached, 8 s the first time (every number new).
    """
    groups: dict[int | None, _Group] = {}
    for row in rows:
        code = row.error_code or None  # 0 is how some payloads say "no error" (explain)
        to_addr, n = row.to_addr, row.count
        group = groups.get(code)
        if group is None:
            group = groups[code] = _Group()
        group.count += n
        region, channel = _destination(to_addr) if to_addr else _NOWHERE
        countries = group.countries
        countries[region] = countries.get(region, 0) + n
        shared = group.channels.get(region)
        if shared is None or shared != channel:
            group.channels[region] = channel if shared is None else ""
        sender = row.from_addr or ""
        senders = group.senders
        senders[sender] = senders.get(sender, 0) + n
    trends: dict[int | None, list[int]] = {code: [0] * buckets for code in groups}
    for raw_code, bucket, n in trend_rows:
        trend = trends.get(raw_code or None)
        # A code that failed within the trend but not the window has no row to draw on;
        # an outcome stamped after `now` (clock skew) has no bucket yet.
        if trend is not None and 0 <= bucket < buckets:
            trend[bucket] += n
    problems = sum(g.count for g in groups.values())
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1].count, kv[0] is None, kv[0] or 0))
    result = tuple(
        ErrorGroup(
            error_code=code,
            count=group.count,
            share=group.count / problems,
            info=explain(code),
            trend=tuple(trends[code]),
            countries=_countries(code, group, since),
            senders=_senders(code, group, since),
            query=_query(code, since),
        )
        for code, group in ordered
    )
    return result, problems


async def build_report(
    store: Store,
    *,
    now: datetime,
    window: timedelta | None = None,
    trend_window: timedelta = timedelta(hours=1),
    buckets: int = 12,
) -> TriageReport:
    """The triage report for outcomes learned in `window` before `now` (all time if None),
    with a trend of `buckets` equal slices of `trend_window` ending at `now`.

    A naive `now` is taken as UTC (as the filter bar does). Measured at 1,000,000
    messages over 30 days, 5% problems, warm: 2-3 ms for a 1-hour window, 13-19 ms for
    24 hours (0.2-0.3 s the first time, learning 1,800 recipients' countries), 125-150 ms
    for 7 days (1.7 s first), 430-470 ms all time (6 s first). See triage_queries for
    the index that would cut the long windows.
    """
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    if trend_window <= timedelta(0):
        raise ValueError(f"trend_window must be positive, got {trend_window}")
    if window is not None and window <= timedelta(0):
        raise ValueError(f"window must be positive, got {window}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    since = None if window is None else now - window
    trend_since = now - trend_window
    rows = await store.failure_groups(since)
    trend_rows = await store.failure_trend(trend_since, trend_window.total_seconds() / buckets)
    finished, failed = await store.outcome_totals(since)
    since_text = None if window is None else _duration(window)
    groups, problems = await asyncio.to_thread(_assemble, rows, trend_rows, buckets, since_text)
    # The rate comes from one statement (its two counts agree); `problems` from another,
    # a moment apart, so under live traffic they may differ by the few in between.
    rate = failed / finished if finished else None
    return TriageReport(
        groups=groups,
        problems=problems,
        finished=finished,
        failure_rate=rate,
        since=since,
        generated_at=now,
    )
