"""Reads for a scrolling window over the message list (the console's virtual list).

The list shows the rows matching a filter that are at or older than an *anchor* row (the
newest one when the list was last re-anchored), newest first, by position. A position is
reached by keyset from a loaded neighbour whenever possible; `page_at` (OFFSET) is only for
jumps into the middle, where its cost grows with the offset (an index walk, no sort).
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from .ingest import LAST_CHANGE_SEQ
from .queries import _COLUMNS, _fetch_messages, _sql_where, where_clause
from .records import Cursor, MessageFilter, StoredMessage

# SQLite's default limit on host parameters is 32766; a patch of changed rows stays far
# below it, but chunk anyway so a huge resync cannot hit it.
_IDS_PER_QUERY = 500


def at_or_before(anchor: Cursor) -> Cursor:
    """A keyset bound that includes `anchor` itself: pages are strictly older than their
    cursor, and ids are integers, so (t, id + 1) admits (t, id) and nothing newer."""
    return Cursor(anchor.created_at, anchor.id + 1)


async def page_at(
    conn: aiosqlite.Connection, flt: MessageFilter, anchor: Cursor, offset: int, limit: int
) -> list[StoredMessage]:
    """Rows `offset` .. `offset + limit` of the list anchored at `anchor`, newest first."""
    clauses, params = where_clause(flt)
    clauses.append("(created_at, id) <= (?, ?)")
    params.extend([anchor.created_at, anchor.id])
    sql = (
        f"SELECT {_COLUMNS} FROM messages {_sql_where(clauses)} "
        "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
    )
    return await _fetch_messages(conn, sql, [*params, limit, max(0, offset)])


async def page_newer(
    conn: aiosqlite.Connection,
    flt: MessageFilter,
    than: Cursor,
    limit: int,
    anchor: Cursor | None = None,
) -> list[StoredMessage]:
    """The `limit` matching rows just newer than `than` (and not newer than `anchor`),
    returned newest first: the block above a loaded one, when scrolling up."""
    clauses, params = where_clause(flt)
    clauses.append("(created_at, id) > (?, ?)")
    params.extend([than.created_at, than.id])
    if anchor is not None:
        clauses.append("(created_at, id) <= (?, ?)")
        params.extend([anchor.created_at, anchor.id])
    sql = f"SELECT {_COLUMNS} FROM messages {_sql_where(clauses)} ORDER BY created_at, id LIMIT ?"
    rows = await _fetch_messages(conn, sql, [*params, limit])
    rows.reverse()
    return rows


async def count_newer(conn: aiosqlite.Connection, flt: MessageFilter, than: Cursor) -> int:
    """How many matching rows are newer than `than`: the "N new" above an anchored list."""
    clauses, params = where_clause(flt)
    clauses.append("(created_at, id) > (?, ?)")
    params.extend([than.created_at, than.id])
    sql = f"SELECT count(*) FROM messages {_sql_where(clauses)}"
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def messages_by_id(
    conn: aiosqlite.Connection, ids: Sequence[int]
) -> dict[int, StoredMessage]:
    """The current rows for these ids (missing ones were deleted)."""
    found: dict[int, StoredMessage] = {}
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = list(ids[start : start + _IDS_PER_QUERY])
        sql = f"SELECT {_COLUMNS} FROM messages WHERE id IN ({', '.join('?' for _ in chunk)})"
        for message in await _fetch_messages(conn, sql, chunk):
            found[message.id] = message
    return found


async def max_change_seq(conn: aiosqlite.Connection) -> int:
    """The newest change sequence number: where a follower of another writer starts."""
    async with conn.execute(LAST_CHANGE_SEQ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0
