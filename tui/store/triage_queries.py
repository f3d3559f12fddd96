"""The aggregates behind the triage view: why messages did not reach the handset.

Owns three reads over the problem messages (status in `PROBLEM`), each one statement so
that its numbers agree with each other: counts per (error code, sender, recipient), counts
per error code and time bucket for the trend, and the delivery outcomes that a failure
rate is taken over. The window is on `status_at`, when the outcome was learned, so "the
last hour" means failures seen in the last hour, however long ago the message was sent.

All three walk `messages_status_age (status, status_at)`: a range per status, so their
cost follows the number of rows in the window, not the size of the table. The outcome
counts read only that index (covering); the other two also read each problem row.
Measured through the Store on 1,000,000 messages spread over 30 days, 5% of them problems
(2 shared cores, SQLite 3.40, warm): a 24-hour window (1,800 problems) costs 6-11 ms for
the groups and 3-5 ms for the outcomes, the 1-hour trend 0.3-0.8 ms; 7 days (12,000
problems) 55-90 ms and 36 ms. With no window (all time) the groups take 210-350 ms, most
of it the 50,000 row look-ups and the sort, and the outcomes 87 ms, counting 950,000 index
entries. A covering partial index in GROUP BY order would serve the groups from the index
alone, no sort: `(error_code, from_addr, to_addr, status_at, status) WHERE status IN
('failed', 'partially_delivered', 'undelivered')`, queried with those literal statuses
and INDEXED BY (without statistics the planner keeps messages_status_age) measured 76 ms
all time, 20 ms for 7 days, 5 ms for a day. It needs a schema migration, not made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from tui.domain.status import PROBLEM, TERMINAL, MessageStatus

S = MessageStatus


@dataclass(frozen=True, slots=True)
class FailureGroupRow:
    """Problem messages sharing an error code, sender and recipient."""

    error_code: int | None
    from_addr: str | None
    to_addr: str | None
    count: int


# The outcomes a failure rate is taken over: a delivery that was attempted and finished.
# `received` is inbound; `canceled` never left (a canceled schedule is not a delivery that
# went well), so counting it would flatter the rate. Every status here is outbound-only,
# which is why no direction test is needed (one would cost a row look-up per message).
DELIVERY_OUTCOMES: frozenset[MessageStatus] = TERMINAL - {S.RECEIVED, S.CANCELED}

_PROBLEM_VALUES = sorted(s.value for s in PROBLEM)
_OUTCOME_VALUES = sorted(s.value for s in DELIVERY_OUTCOMES)


def _in(values: list[str]) -> str:
    return f"status IN ({', '.join('?' for _ in values)})"


def _window(values: list[str], since: datetime | None) -> tuple[str, list[Any]]:
    """`status IN (...)` [and `status_at >= since`]: one index range per status."""
    where = _in(values)
    params: list[Any] = list(values)
    if since is not None:
        where += " AND status_at >= ?"
        params.append(since.timestamp())
    return where, params


async def failure_groups(
    conn: aiosqlite.Connection, since: datetime | None
) -> list[FailureGroupRow]:
    """Problem messages whose outcome was learned at or after `since` (all, if None),
    counted per (error code, sender, recipient), in no particular order.

    Grouped by the full recipient, not by country: the country comes from the number
    (phonenumbers), which SQL cannot do. Grouping by a prefix instead measured no faster
    (the cost is reading the rows, not the groups) and would lose the exact country.
    """
    where, params = _window(_PROBLEM_VALUES, since)
    sql = (
        f"SELECT error_code, from_addr, to_addr, count(*) FROM messages WHERE {where} "
        "GROUP BY error_code, from_addr, to_addr"
    )
    async with conn.execute(sql, params) as cursor:
        # One hop to SQLite's thread for the lot: iterating fetches 64 rows per hop, and
        # an all-time window can return tens of thousands of groups.
        rows = await cursor.fetchall()
    # Positional and unconverted: an all-time window returns tens of thousands of rows
    # (measured at 50,000: 43 ms, against 77 ms with keywords and int()/str() on each).
    # The columns already hold these types: INTEGER affinity for the code, and only
    # ingest writes them.
    return [FailureGroupRow(*row) for row in rows]


async def failure_trend(
    conn: aiosqlite.Connection, since: datetime, bucket_seconds: float
) -> list[tuple[int | None, int, int]]:
    """(error code, bucket, count) for problem messages whose outcome was learned at or
    after `since`; bucket = floor((status_at - since) / bucket_seconds).

    Buckets past the caller's last one (an outcome stamped after its `now`) are returned
    too; the caller decides what its last bucket is.
    """
    if bucket_seconds <= 0:
        raise ValueError(f"bucket_seconds must be positive, got {bucket_seconds}")
    start = since.timestamp()
    where, params = _window(_PROBLEM_VALUES, since)
    # status_at >= since, so the quotient is never negative and CAST (which truncates
    # toward zero) is floor.
    sql = (
        "SELECT error_code, CAST((status_at - ?) / ? AS INTEGER) AS bucket, count(*) "
        f"FROM messages WHERE {where} GROUP BY error_code, bucket"
    )
    async with conn.execute(sql, [start, float(bucket_seconds), *params]) as cursor:
        rows = await cursor.fetchall()
    return [(None if code is None else int(code), int(bucket), int(n)) for code, bucket, n in rows]


async def outcome_totals(conn: aiosqlite.Connection, since: datetime | None) -> tuple[int, int]:
    """(messages with a delivery outcome, of which problems), outcomes learned at or
    after `since` (all, if None): the two sides of a failure rate, from one statement."""
    where, params = _window(_OUTCOME_VALUES, since)
    sql = f"SELECT status, count(*) FROM messages WHERE {where} GROUP BY status"
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    problem_values = set(_PROBLEM_VALUES)
    finished = sum(int(n) for _, n in rows)
    problems = sum(int(n) for status, n in rows if status in problem_values)
    return finished, problems
