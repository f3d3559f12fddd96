"""The reads the console needs, each served by an index (see schema.py).

Pages are keyset-paginated on (created_at, id), newest first: the cost of a page does not
grow with how far down the list it is, unlike OFFSET.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from tui.domain.status import IN_FLIGHT, MessageStatus, parse_status

from .ingest import MESSAGE_COLUMNS
from .records import (
    Cursor,
    EventKind,
    MessageFilter,
    Page,
    SignatureVerdict,
    StoredEvent,
    StoredMessage,
)

_COLUMNS = ", ".join(MESSAGE_COLUMNS)
# The same, named by table, for a query that joins messages to another table.
_MESSAGES_COLUMNS = ", ".join(f"messages.{column}" for column in MESSAGE_COLUMNS)
_ORDER = "ORDER BY created_at DESC, id DESC"
_EVENT_COLUMNS = (
    "id, kind, received_at, message_id, message_sid, local_id, status, status_known, "
    "error_code, applied, signature, rejected_reason, checked_url, idempotency_token, "
    "params, headers, duplicates, last_duplicate_at"
)

Where = tuple[list[str], list[Any]]

# A filter on body words alone first reads this many of the newest matches by rowid
# (FTS5 returns them in rowid order, ~25 ms at 1M messages for a word in 40% of bodies,
# almost all of it merging the prefix's doclists) and proves that the page lies among
# them; sorting every match by time instead took 170 ms there. Fewer matches than this
# means the word is rare, and sorting all of them is cheap.
TEXT_WINDOW = 2000


def message_from_row(values: Sequence[Any]) -> StoredMessage:
    row = dict(zip(MESSAGE_COLUMNS, values, strict=True))
    del row["status_rank"]
    row["status"] = parse_status(row["status"])
    return StoredMessage(**row)


def _pairs(raw: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in json.loads(raw))


def event_from_row(values: Sequence[Any]) -> StoredEvent:
    (eid, kind, received_at, message_id, sid, local_id, status, known, error_code, applied,
     signature, reason, url, token, params, headers, duplicates, last_dup_at) = values  # fmt: skip
    return StoredEvent(
        id=eid,
        kind=EventKind(kind),
        received_at=received_at,
        message_id=message_id,
        message_sid=sid,
        local_id=local_id,
        status=status,
        status_known=bool(known),
        error_code=error_code,
        applied=bool(applied),
        signature=SignatureVerdict(signature),
        rejected_reason=reason,
        checked_url=url,
        idempotency_token=token,
        params=_pairs(params),
        headers=_pairs(headers),
        duplicates=int(duplicates),
        last_duplicate_at=last_dup_at,
    )


def fts_query(text: str) -> str | None:
    """User words as an FTS5 query: every word must appear, as a prefix.

    Each word is quoted, so FTS5 syntax typed by a person (AND, NEAR, quotes, '*', '-')
    is searched for literally instead of raising a syntax error.
    """
    words = [w.replace('"', '""') for w in text.split()]
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def _prefix_range(column: str, prefix: str, clauses: list[str], params: list[Any]) -> None:
    # A range on the indexed column instead of LIKE, which SQLite cannot run on an index
    # with its default case-insensitive LIKE.
    clauses.append(f"{column} >= ? AND {column} < ?")
    params.extend([prefix, prefix + "\U0010ffff"])


def where_clause(flt: MessageFilter, *, with_status: bool = True) -> Where:
    clauses: list[str] = []
    params: list[Any] = []
    if with_status and flt.statuses:
        clauses.append(f"status IN ({', '.join('?' for _ in flt.statuses)})")
        params.extend(sorted(s.value for s in flt.statuses))
    if flt.error_codes:
        clauses.append(f"error_code IN ({', '.join('?' for _ in flt.error_codes)})")
        params.extend(sorted(flt.error_codes))
    if flt.to_addr:
        _prefix_range("to_addr", flt.to_addr, clauses, params)
    if flt.from_addr:
        _prefix_range("from_addr", flt.from_addr, clauses, params)
    if flt.text:
        match = fts_query(flt.text)
        if match is not None:
            clauses.append("id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)")
            params.append(match)
    if flt.since is not None:
        clauses.append("created_at >= ?")
        params.append(flt.since.timestamp())
    if flt.until is not None:
        clauses.append("created_at < ?")
        params.append(flt.until.timestamp())
    if flt.status_before is not None:
        clauses.append("status_at < ?")
        params.append(flt.status_before.timestamp())
    if flt.direction == "inbound":
        clauses.append("direction = 'inbound'")
    elif flt.direction == "outbound":
        clauses.append("coalesce(direction, '') != 'inbound'")
    return clauses, params


def _sql_where(clauses: Iterable[str]) -> str:
    clauses = list(clauses)
    return f"WHERE {' AND '.join(clauses)}" if clauses else ""


async def _fetch_messages(
    conn: aiosqlite.Connection, sql: str, params: Sequence[Any]
) -> list[StoredMessage]:
    async with conn.execute(sql, params) as cursor:
        return [message_from_row(values) async for values in cursor]


async def _text_window_page(
    conn: aiosqlite.Connection, flt: MessageFilter, match: str, after: Cursor | None, limit: int
) -> tuple[list[StoredMessage] | None, bool]:
    """The rows of a body-words page taken from the newest `TEXT_WINDOW` matches by rowid.

    Returns (rows, common): rows is None when the window cannot be shown to hold the page,
    and the caller must run the general query; common says whether the window was full.
    Rowids follow creation order almost always, but not by rule (a callback can create an
    old message late), so the window is checked rather than trusted: it holds the page if
    no message outside its rowid range sorts between the page's last row and `after`.
    """
    # Below a cursor, later matches are (nearly always) the ones with smaller rowids.
    below = after.id if after is not None else None
    fts_sql = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?"
    fts_params: list[Any] = [match]
    if below is not None:
        fts_sql += " AND rowid < ?"
        fts_params.append(below)
    fts_sql += " ORDER BY rowid DESC LIMIT ?"
    ids = [int(r[0]) for r in await conn.execute_fetchall(fts_sql, [*fts_params, TEXT_WINDOW])]
    common = len(ids) == TEXT_WINDOW
    low = ids[-1] if common else None  # matches under this rowid were not looked at

    clauses, params = where_clause(replace(flt, text=None))
    clauses.append("id IN (SELECT value FROM json_each(?))")
    params.append(json.dumps(ids))
    if after is not None:
        clauses.append("(created_at, id) < (?, ?)")
        params.extend([after.created_at, after.id])
    # NOT INDEXED keeps the plan on rowid look-ups of the window rather than an index walk;
    # the inner query sorts keys only, so just the page's rows are read whole.
    page_ids = f"SELECT id FROM messages NOT INDEXED {_sql_where(clauses)} {_ORDER} LIMIT ?"
    sql = f"SELECT {_COLUMNS} FROM messages WHERE id IN ({page_ids}) {_ORDER}"
    rows = await _fetch_messages(conn, sql, [*params, limit + 1])

    outside: list[str] = []
    outside_params: list[Any] = []
    if low is not None:
        outside.append("id < ?")
        outside_params.append(low)
    if below is not None:
        outside.append("id >= ?")
        outside_params.append(below)
    if not outside:
        return rows, common  # every match was in the window
    if len(rows) <= limit:
        return None, common  # the page may continue outside the window
    last = rows[-1]
    check = ["(created_at, id) > (?, ?)", f"({' OR '.join(outside)})"]
    check_params: list[Any] = [last.created_at, last.id, *outside_params]
    if after is not None:
        check.append("(created_at, id) < (?, ?)")
        check_params.extend([after.created_at, after.id])
    sql = f"SELECT 1 FROM messages INDEXED BY messages_newest {_sql_where(check)} LIMIT 1"
    found = await conn.execute_fetchall(sql, check_params)
    return (None if found else rows), common


async def page(
    conn: aiosqlite.Connection,
    flt: MessageFilter,
    after: Cursor | None = None,
    limit: int = 200,
) -> Page:
    """Up to `limit` messages matching `flt`, newest first, strictly older than `after`."""
    limit = max(1, min(limit, 5000))
    source = "messages"
    only_text = not (flt.statuses or flt.error_codes or flt.to_addr or flt.from_addr)
    match = fts_query(flt.text) if flt.text else None
    if match is not None and only_text:
        window_rows, common = await _text_window_page(conn, flt, match, after, limit)
        if window_rows is not None:
            return _as_page(window_rows, limit)
        if common:
            # Many matches: walking newest-first stops after a page, sorting them all would not.
            source = "messages INDEXED BY messages_newest"
    clauses, params = where_clause(flt, with_status=False)
    if after is not None:
        clauses.append("(created_at, id) < (?, ?)")
        params.extend([after.created_at, after.id])
    statuses = sorted(s.value for s in flt.statuses)
    if len(statuses) <= 1:
        if statuses:
            clauses.insert(0, "status = ?")
            params.insert(0, statuses[0])
        sql = f"SELECT {_COLUMNS} FROM {source} {_sql_where(clauses)} {_ORDER} LIMIT ?"
        rows = await _fetch_messages(conn, sql, [*params, limit + 1])
    else:
        # One ordered index walk per status, each stopping after `limit` rows, merged:
        # a single `status IN (...)` would sort every matching row to find the newest.
        parts = []
        all_params: list[Any] = []
        for status in statuses:
            part_where = _sql_where(["status = ?", *clauses])
            parts.append(
                f"SELECT * FROM (SELECT {_COLUMNS} FROM messages {part_where} {_ORDER} LIMIT ?)"
            )
            all_params.extend([status, *params, limit + 1])
        sql = " UNION ALL ".join(parts) + f" {_ORDER} LIMIT ?"
        rows = await _fetch_messages(conn, sql, [*all_params, limit + 1])
    return _as_page(rows, limit)


def _as_page(rows: list[StoredMessage], limit: int) -> Page:
    """`rows` holds up to `limit` + 1 rows: the extra one only says that more follow."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = Cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return Page(tuple(rows), cursor)


_NO_FILTER = MessageFilter()


async def count_by_status(
    conn: aiosqlite.Connection, flt: MessageFilter | None = None
) -> dict[MessageStatus | None, int]:
    flt = flt or _NO_FILTER
    if replace(flt, statuses=frozenset()) == _NO_FILTER:
        # Nothing but statuses asked for: the counts the writer keeps (schema v7), not
        # a count of every row.
        sql = "SELECT status, n FROM status_counts WHERE n > 0"
        params: list[Any] = []
        if flt.statuses:
            # '' is the key of "no status yet", which no status filter matches.
            sql += f" AND status IN ({', '.join('?' for _ in flt.statuses)})"
            params = sorted(s.value for s in flt.statuses)
    else:
        clauses, params = where_clause(flt)
        sql = f"SELECT status, count(*) FROM messages {_sql_where(clauses)} GROUP BY status"
    counts: dict[MessageStatus | None, int] = {}
    async with conn.execute(sql, params) as cursor:
        async for status, count in cursor:
            key = parse_status(status)
            counts[key] = counts.get(key, 0) + int(count)
    return counts


async def count_by_error(
    conn: aiosqlite.Connection, flt: MessageFilter | None = None
) -> list[tuple[int, int]]:
    """(error code, messages) pairs, most frequent first."""
    clauses, params = where_clause(flt or MessageFilter())
    clauses.insert(0, "error_code IS NOT NULL")
    sql = (
        f"SELECT error_code, count(*) AS n FROM messages {_sql_where(clauses)} "
        "GROUP BY error_code ORDER BY n DESC, error_code"
    )
    async with conn.execute(sql, params) as cursor:
        return [(int(code), int(n)) async for code, n in cursor]


async def in_flight_older_than(
    conn: aiosqlite.Connection,
    age: timedelta,
    now: datetime,
    limit: int = 1000,
    after: tuple[float, int] | None = None,
) -> list[StoredMessage]:
    """Messages still in flight whose status was learned more than `age` before `now`,
    oldest first: candidates for a fetch (the callback may have been lost). `after` is the
    (status_at, id) of the last message of the previous page: the next page starts there."""
    statuses = sorted(s.value for s in IN_FLIGHT)
    params: list[object] = [*statuses, (now - age).timestamp()]
    keyset = ""
    if after is not None:
        keyset = "AND (status_at, id) > (?, ?) "
        params.extend(after)
    sql = (
        f"SELECT {_COLUMNS} FROM messages WHERE status IN ({', '.join('?' for _ in statuses)}) "
        f"AND status_at < ? {keyset}ORDER BY status_at, id LIMIT ?"
    )
    return await _fetch_messages(conn, sql, [*params, limit])


async def unsent_older_than(
    conn: aiosqlite.Connection, age: timedelta, now: datetime, limit: int = 100
) -> list[StoredMessage]:
    sql = (
        f"SELECT {_COLUMNS} FROM messages WHERE sid IS NULL AND status IS NULL "
        "AND local_id IS NOT NULL AND created_at < ? ORDER BY created_at LIMIT ?"
    )
    return await _fetch_messages(conn, sql, [(now - age).timestamp(), limit])


async def changed_since(
    conn: aiosqlite.Connection, seq: int, limit: int = 1000
) -> list[StoredMessage]:
    """Messages whose shown state changed after change sequence `seq`, in change order."""
    # Only a row's latest log entry names it: an earlier one was superseded. (No table
    # aliases: the query-plan tests look for scans by table name.)
    sql = (
        f"SELECT {_MESSAGES_COLUMNS} FROM message_changes JOIN messages "
        "ON messages.id = message_changes.message_id "
        "AND messages.change_seq = message_changes.seq "
        "WHERE message_changes.seq > ? ORDER BY message_changes.seq LIMIT ?"
    )
    return await _fetch_messages(conn, sql, [seq, limit])


async def get_message(
    conn: aiosqlite.Connection,
    *,
    id: int | None = None,
    sid: str | None = None,
    local_id: str | None = None,
) -> StoredMessage | None:
    value: int | str
    if id is not None:
        column, value = "id", id
    elif sid is not None:
        column, value = "sid", sid
    elif local_id is not None:
        column, value = "local_id", local_id
    else:
        raise ValueError("give one of id, sid or local_id")
    rows = await _fetch_messages(
        conn, f"SELECT {_COLUMNS} FROM messages WHERE {column} = ?", [value]
    )
    return rows[0] if rows else None


async def events_for(conn: aiosqlite.Connection, message_id: int) -> list[StoredEvent]:
    sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE message_id = ? ORDER BY id"
    async with conn.execute(sql, [message_id]) as cursor:
        return [event_from_row(values) async for values in cursor]


async def rejected_events(conn: aiosqlite.Connection, limit: int = 100) -> list[StoredEvent]:
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE rejected_reason IS NOT NULL "
        "ORDER BY id DESC LIMIT ?"
    )
    async with conn.execute(sql, [limit]) as cursor:
        return [event_from_row(values) async for values in cursor]


async def rejected_events_for(
    conn: aiosqlite.Connection, sid: str | None, local_id: str | None, limit: int = 200
) -> list[StoredEvent]:
    """Rejected events that claimed this message (by SID or by `?lid=`), oldest first, at
    most `limit` (the newest ones). They are stored unattached, so `events_for` never
    returns them; the detail view shows them to explain missing callbacks."""
    # One SELECT per partial index, unioned: an OR over the two would read every
    # rejected row.
    parts: list[str] = []
    params: list[Any] = []
    for column, value in (("message_sid", sid), ("local_id", local_id)):
        if value:
            parts.append(
                f"SELECT {_EVENT_COLUMNS} FROM events "
                f"WHERE rejected_reason IS NOT NULL AND {column} IS NOT NULL AND {column} = ?"
            )
            params.append(value)
    if not parts:
        return []
    sql = f"SELECT * FROM ({' UNION '.join(parts)}) ORDER BY id DESC LIMIT ?"
    async with conn.execute(sql, [*params, limit]) as cursor:
        events = [event_from_row(values) async for values in cursor]
    return events[::-1]


async def media_for(conn: aiosqlite.Connection, message_id: int) -> list[str]:
    sql = "SELECT url FROM media WHERE message_id = ? ORDER BY idx"
    async with conn.execute(sql, [message_id]) as cursor:
        return [str(url) async for (url,) in cursor]


async def recent_recipients(
    conn: aiosqlite.Connection, limit: int = 10, scan: int = 500
) -> list[str]:
    """The last `limit` distinct recipients of outbound messages, newest first, from the
    newest `scan` messages: bounded work, however large the history."""
    sql = (
        "SELECT to_addr FROM (SELECT to_addr, direction FROM messages ORDER BY id DESC LIMIT ?)"
        " WHERE to_addr IS NOT NULL AND (direction IS NULL OR direction != 'inbound')"
    )
    seen: dict[str, None] = {}
    async with conn.execute(sql, [scan]) as cursor:
        async for (address,) in cursor:
            seen.setdefault(str(address))
            if len(seen) >= limit:
                break
    return list(seen)
