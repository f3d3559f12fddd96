"""Changes the user asks for, as opposed to observations: redacting the local copy of a
message, dropping a message from this database, and remembering where a history import
stopped. They go through the same writer (and group commit) as everything else, so they
are ordered with the callbacks around them and published to followers the same way.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from .ingest import count_statuses, log_change

# Fields of a stored callback/webhook or REST resource that hold the message's text.
_BODY_FIELDS = frozenset({"Body", "body"})


@dataclass(frozen=True, slots=True)
class RedactLocal:
    """Blank the body of message `message_id` here, in its row and in every stored event
    (callbacks of inbound messages and fetched resources carry the body too)."""

    message_id: int


@dataclass(frozen=True, slots=True)
class DeleteLocal:
    """Forget message `message_id`: its row, its events and its media."""

    message_id: int


@dataclass(frozen=True, slots=True)
class SetSyncState:
    key: str
    value: str | None  # None removes the key


@dataclass(frozen=True, slots=True)
class RefreshStatistics:
    """Let SQLite's planner know the table's shape (ANALYZE, sampled).

    Without statistics it guesses, and some guesses cost hundreds of times more at a
    million rows: the `stuck` page sorted every in-flight match (585 ms) where walking an
    index takes 10 ms (bench/console.py). `analysis_limit` samples each index instead of
    reading it whole, so this costs well under a second at that size.
    """


StoreEdit = RedactLocal | DeleteLocal | SetSyncState | RefreshStatistics

# Rows examined per index by a sampled ANALYZE (SQLite's suggested range is 100-1000).
ANALYSIS_LIMIT = 1000


def apply_edit(conn: sqlite3.Connection, edit: StoreEdit) -> int | None:
    """Apply `edit` inside the writer's transaction; returns the id of the message whose
    shown state changed (for followers), or None."""
    if isinstance(edit, RefreshStatistics):
        conn.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        conn.execute("ANALYZE")
        return None
    if isinstance(edit, SetSyncState):
        if edit.value is None:
            conn.execute("DELETE FROM sync_state WHERE key = ?", (edit.key,))
        else:
            conn.execute(
                "INSERT INTO sync_state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (edit.key, edit.value),
            )
        return None
    found = conn.execute("SELECT status FROM messages WHERE id = ?", (edit.message_id,)).fetchone()
    if found is None:
        return None
    if isinstance(edit, DeleteLocal):
        conn.execute("DELETE FROM events WHERE message_id = ?", (edit.message_id,))
        conn.execute("DELETE FROM messages WHERE id = ?", (edit.message_id,))  # media cascade
        count_statuses(conn, {found[0] or "": -1})
        return edit.message_id
    _redact(conn, edit.message_id)
    return edit.message_id


def _redact(conn: sqlite3.Connection, message_id: int) -> None:
    seq = log_change(conn, message_id)
    conn.execute("UPDATE messages SET body = '', change_seq = ? WHERE id = ?", (seq, message_id))
    rows = conn.execute(
        "SELECT id, params FROM events WHERE message_id = ?", (message_id,)
    ).fetchall()
    updates: list[tuple[str, int]] = []
    for event_id, raw in rows:
        pairs = json.loads(raw)
        blanked = [[k, "" if k in _BODY_FIELDS else v] for k, v in pairs]
        if blanked != pairs:
            updates.append((json.dumps(blanked), int(event_id)))
    if updates:
        conn.executemany("UPDATE events SET params = ? WHERE id = ?", updates)
