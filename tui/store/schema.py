"""The database schema and its migrations, versioned with `PRAGMA user_version`.

Each migration is applied once, in order, inside one transaction with the version bump, so
a crash mid-migration leaves the previous version intact. A database written by a newer
build (a version this build does not know) is refused rather than guessed at.

Times are unix seconds (REAL, UTC): cheap to index and compare, and the UI formats them.
"""

from __future__ import annotations

import sqlite3

# v1: messages (one row per SID or per local send awaiting its SID), events (every
# callback, inbound webhook and fetch, raw), media.
_V1 = """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    sid TEXT UNIQUE,
    local_id TEXT UNIQUE,
    account_sid TEXT,
    messaging_service_sid TEXT,
    direction TEXT,
    from_addr TEXT,
    to_addr TEXT,
    body TEXT,
    num_segments INTEGER,
    num_media INTEGER,
    status TEXT,
    status_rank INTEGER NOT NULL DEFAULT -1,
    status_at REAL NOT NULL,
    error_code INTEGER,
    error_message TEXT,
    price TEXT,
    price_unit TEXT,
    api_version TEXT,
    date_created REAL,
    date_sent REAL,
    date_updated REAL,
    raw_dlr_done_date TEXT,
    send_at REAL,
    created_at REAL NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    change_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_newest ON messages (created_at, id);
CREATE INDEX messages_by_status ON messages (status, created_at, id);
CREATE INDEX messages_by_error ON messages (error_code, created_at, id)
    WHERE error_code IS NOT NULL;
CREATE INDEX messages_by_to ON messages (to_addr, created_at, id);
CREATE INDEX messages_by_from ON messages (from_addr, created_at, id);
CREATE INDEX messages_status_age ON messages (status, status_at);
CREATE INDEX messages_changes ON messages (change_seq);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    received_at REAL NOT NULL,
    message_id INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    message_sid TEXT,
    local_id TEXT,
    status TEXT,
    status_known INTEGER NOT NULL DEFAULT 1,
    error_code INTEGER,
    applied INTEGER NOT NULL DEFAULT 0,
    signature TEXT NOT NULL,
    rejected_reason TEXT,
    checked_url TEXT,
    idempotency_token TEXT,
    content_hash TEXT,
    params TEXT NOT NULL,
    headers TEXT NOT NULL
);
CREATE INDEX events_by_message ON events (message_id, id);
CREATE INDEX events_by_time ON events (received_at);
CREATE INDEX events_rejected ON events (id) WHERE rejected_reason IS NOT NULL;
-- De-duplication keys exist only on accepted events: a forged request must never
-- occupy the slot of the genuine callback that follows it.
CREATE UNIQUE INDEX events_token ON events (idempotency_token)
    WHERE idempotency_token IS NOT NULL;
CREATE UNIQUE INDEX events_content ON events (content_hash)
    WHERE content_hash IS NOT NULL;

CREATE TABLE media (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    url TEXT NOT NULL,
    content_type TEXT,
    PRIMARY KEY (message_id, idx)
) WITHOUT ROWID;
"""

# v2: full-text search over bodies. An external-content FTS5 table kept in step by
# triggers, back-filled from the rows a v1 database already holds.
_V2 = """
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE body IS NOT NULL;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.body IS NOT NULL BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.body IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
WHEN old.body IS NOT new.body BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE old.body IS NOT NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.id, new.body WHERE new.body IS NOT NULL;
END;
"""

# v3: what the lifecycle service needs. A resend points at the message it repeats; the
# history import keeps where it stopped (a page URL) so that it can resume.
_V3 = """
ALTER TABLE messages ADD COLUMN resend_of INTEGER REFERENCES messages (id) ON DELETE SET NULL;
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""

# v4: what the message detail view needs.
# - A redelivered callback (same idempotency token or content) is still not stored twice,
#   but its original event counts it, so the timeline can say "delivered twice".
# - The StatusCallback URL a send here asked for: Twilio's Message resource never returns
#   it, and the public URL it was built from changes between sessions (tunnels).
# - Rejected events are stored unattached (a forged request must not touch a message);
#   these partial indexes find the ones that claimed a message, and hold only rejected
#   rows, so the accepted-callback path pays nothing for them.
_V4 = """
ALTER TABLE events ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN last_duplicate_at REAL;
ALTER TABLE messages ADD COLUMN status_callback TEXT;
CREATE INDEX events_rejected_by_sid ON events (message_sid)
    WHERE rejected_reason IS NOT NULL AND message_sid IS NOT NULL;
CREATE INDEX events_rejected_by_local ON events (local_id)
    WHERE rejected_reason IS NOT NULL AND local_id IS NOT NULL;
"""

# v5: de-duplication looks among the events of the messages a batch touches, not in two
# table-wide unique indexes. A redelivery names the same SID (its parameters are the same),
# so it always belongs to the same message; the global indexes on random 36- and 64-character
# keys dirtied two B-tree pages per callback, half of what each commit wrote (measured:
# 82 -> 40 WAL pages per batch of 25). Accepted events attached to no message (no SID, or
# their message was deleted) keep small partial indexes, so they are still found.
_V5 = """
DROP INDEX events_token;
DROP INDEX events_content;
CREATE INDEX events_loose_token ON events (idempotency_token)
    WHERE message_id IS NULL AND idempotency_token IS NOT NULL;
CREATE INDEX events_loose_content ON events (content_hash)
    WHERE message_id IS NULL AND content_hash IS NOT NULL;
"""

# v6: the change feed (followers, the console's re-reads) reads an append-only log instead
# of the index on messages.change_seq. Each change moved the row's entry in that index:
# a delete on whatever random page held the old one, so one of the ~6 scattered pages a
# callback writes on a big database. An append lands on the log's last page, shared by
# the whole batch (measured on the 1M-message bench database, batches of 40 scattered
# updates: 202-213 -> 161-166 us each, commit included). messages.change_seq stays: it
# is the row's version, and only the row's latest log entry (seq = change_seq) counts.
# The log grows by one ~10-byte row per change, about 1% of what the events table grows
# by for the same callbacks, so it is not trimmed.
# Each row's latest change, as the writer would have logged it (also used by the bench's
# database builder, which fills messages in bulk).
CHANGE_LOG_BACKFILL = (
    "INSERT INTO message_changes (seq, message_id) "
    "SELECT change_seq, id FROM messages WHERE change_seq > 0 ORDER BY change_seq"
)
_V6 = f"""
CREATE TABLE message_changes (seq INTEGER PRIMARY KEY, message_id INTEGER NOT NULL);
{CHANGE_LOG_BACKFILL};
DROP INDEX messages_changes;
"""

# v7: the number of messages in each status, kept by the writer in the same transaction as
# the rows (ingest's `_write`, the one place rows are inserted and updated, and the delete
# in edits). The console's header shows counts by status for the whole store (or for a
# filter on status alone) and recounts them every few seconds while callbacks arrive:
# at a million messages, counting every row took ~240 ms each time under load. Reading
# this table takes under a millisecond. Not triggers: a trigger statement costs ~3 us
# (measured), ~5 us per callback, a few percent of `msgwatch serve`'s writer; the writer
# adds up a batch's changes and writes them in one statement. The key is '' for a
# message with no status yet (a local send awaiting its create answer).
STATUS_COUNTS_BACKFILL = (
    "INSERT INTO status_counts (status, n) "
    "SELECT coalesce(status, ''), count(*) FROM messages GROUP BY 1"
)
_V7 = f"""
CREATE TABLE status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
{STATUS_COUNTS_BACKFILL};
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7)
LATEST_VERSION = len(MIGRATIONS)


class SchemaError(RuntimeError):
    """The database cannot be used by this build (too new, or not a msgwatch database)."""


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def migration_steps(current: int, target: int = LATEST_VERSION) -> list[tuple[int, list[str]]]:
    """The (version, statements) still to apply to go from `current` to `target`."""
    if current > LATEST_VERSION:
        raise SchemaError(
            f"This database has schema version {current}, newer than this msgwatch knows "
            f"({LATEST_VERSION}); upgrade msgwatch or use another database file."
        )
    if current < 0:
        raise SchemaError(f"This database has an invalid schema version ({current}).")
    return [
        (version, _statements(MIGRATIONS[version - 1]))
        for version in range(current + 1, target + 1)
    ]
