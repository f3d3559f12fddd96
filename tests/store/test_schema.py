"""Opening databases: migrations from older versions lose nothing; bad files are refused."""

import sqlite3
from pathlib import Path

import pytest

from tui.store import LATEST_VERSION, MessageFilter, Store, StoreError

from .conftest import callback, schema_at, sid


def make_v1(path: Path) -> None:
    """A database exactly as the first schema version left it, with data in it."""
    with sqlite3.connect(path) as conn:
        schema_at(conn, 1)
        conn.execute(
            "INSERT INTO messages (id, sid, to_addr, body, status, status_rank, status_at, "
            "created_at, first_seen, last_seen) "
            "VALUES (1, ?, '+14155550100', 'old body from v1', 'delivered', 4, 5, 5, 5, 5)",
            (sid(1),),
        )
        conn.execute(
            "INSERT INTO events (kind, received_at, message_id, message_sid, status, signature, "
            "params, headers) VALUES ('callback', 5, 1, ?, 'delivered', 'valid', '[]', '[]')",
            (sid(1),),
        )


async def test_v1_database_opens_with_a_later_build_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    make_v1(path)
    async with await Store.open(path) as store:
        message = await store.get_message(sid=sid(1))
        assert message is not None and message.body == "old body from v1"
        assert len(await store.events_for(message.id)) == 1
        # v2 added search; rows from v1 are searchable too.
        found = await store.page(MessageFilter(text="old body"))
        assert [m.sid for m in found.rows] == [sid(1)]
        # and the database keeps working after the upgrade
        await store.ingest(callback(sid(1), "read"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)


async def test_new_database_is_at_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with await Store.open(path):
        pass
    async with await Store.open(path):  # reopening applies nothing twice
        pass
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)


async def test_database_from_a_newer_build_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    with pytest.raises(StoreError, match="newer than this msgwatch"):
        await Store.open(path)


async def test_file_that_is_not_a_database_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="not a msgwatch database"):
        await Store.open(path)
    assert path.read_text().startswith("these are my notes")  # and it is left untouched


async def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE messages (x)")
    with pytest.raises(StoreError, match="another program"):
        await Store.open(path)


async def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot be opened"):
        await Store.open(tmp_path / "no" / "such" / "dir" / "m.db")


def make_v3(path: Path) -> None:
    """A database as schema version 3 left it: a delivered message and its callback."""
    with sqlite3.connect(path) as conn:
        schema_at(conn, 3)
        conn.execute(
            "INSERT INTO messages (id, sid, local_id, to_addr, body, status, status_rank, "
            "status_at, created_at, first_seen, last_seen) "
            "VALUES (1, ?, 'L1', '+14155550100', 'from v3', 'delivered', 4, 5, 5, 5, 5)",
            (sid(1),),
        )
        conn.execute(
            "INSERT INTO events (kind, received_at, message_id, message_sid, status, signature, "
            "idempotency_token, params, headers) "
            "VALUES ('callback', 5, 1, ?, 'delivered', 'valid', 'tok-v3', '[]', '[]')",
            (sid(1),),
        )


async def test_v3_database_gains_duplicate_counts_and_callback_url(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    make_v3(path)
    async with await Store.open(path) as store:
        message = await store.get_message(sid=sid(1))
        assert message is not None and message.status_callback is None
        (event,) = await store.events_for(message.id)
        assert event.duplicates == 0 and event.last_duplicate_at is None
        # A redelivery of the callback stored before the upgrade is counted on it.
        again = await store.ingest(callback(sid(1), "delivered", token="tok-v3", at=9))
        assert again.duplicate
        (event,) = await store.events_for(message.id)
        assert event.duplicates == 1 and event.last_duplicate_at == 9
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)


async def test_v5_database_moves_its_changes_to_the_log(tmp_path: Path) -> None:
    # A v5 database kept the change feed in an index on messages.change_seq; v6 reads a
    # log, filled from the rows' sequence numbers, so a follower loses nothing.
    path = tmp_path / "v5.db"
    with sqlite3.connect(path) as conn:
        schema_at(conn, 5)
        for n, seq in ((1, 7), (2, 0), (3, 4)):
            conn.execute(
                "INSERT INTO messages (id, sid, status, status_rank, status_at, created_at, "
                "first_seen, last_seen, change_seq) VALUES (?, ?, 'sent', 2, 5, 5, 5, 5, ?)",
                (n, sid(n), seq),
            )
    conn.close()
    async with await Store.open(path) as store:
        assert [m.sid for m in await store.changed_since(0)] == [sid(3), sid(1)]
        assert await store.max_change_seq() == 7
        # New changes follow on from there.
        await store.ingest(callback(sid(2), "delivered", at=9))
        (moved,) = await store.changed_since(7)
        assert moved.sid == sid(2) and moved.change_seq == 8
    with sqlite3.connect(path) as conn:
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "messages_changes" not in indexes and "message_changes" in indexes
    conn.close()
