"""The background checkpointer: copies the log beside the writer, paces itself, stops
promptly, and reports rather than raises what goes wrong."""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tui.store.checkpointer import BackgroundCheckpointer


def _wal_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    # Only the checkpointer under test copies pages.
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    return conn


def _write(conn: sqlite3.Connection, rows: int) -> None:
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t (body) VALUES (?)", [("x" * 200,) for _ in range(rows)])
    conn.execute("COMMIT")


@contextmanager
def _running(
    path: Path, *, min_bytes: int
) -> Iterator[tuple[sqlite3.Connection, BackgroundCheckpointer]]:
    """A WAL database's writer and a started checkpointer with no pause; both closed after."""
    conn = _wal_writer(path)
    checkpointer = BackgroundCheckpointer(str(path), interval=0, min_bytes=min_bytes)
    checkpointer.start()
    try:
        yield conn, checkpointer
    finally:
        checkpointer.close()
        conn.close()


def test_only_a_wal_file_gets_one(tmp_path: Path) -> None:
    memory = sqlite3.connect(":memory:")
    rollback = sqlite3.connect(tmp_path / "rollback.db")
    rollback.execute("CREATE TABLE t (x)")
    wal = _wal_writer(tmp_path / "wal.db")
    try:
        assert BackgroundCheckpointer.for_connection(memory) is None
        assert BackgroundCheckpointer.for_connection(rollback) is None
        found = BackgroundCheckpointer.for_connection(wal)
        assert found is not None
        assert Path(found.path) == tmp_path / "wal.db"
    finally:
        for conn in (memory, rollback, wal):
            conn.close()


def test_a_poke_copies_every_committed_page(tmp_path: Path) -> None:
    with _running(tmp_path / "wal.db", min_bytes=0) as (conn, checkpointer):
        _write(conn, 500)
        checkpointer.poke()
        assert checkpointer.wait_for_run(0, timeout=10)
        assert checkpointer.last is not None
        busy, logged, copied = checkpointer.last
        assert (busy, copied) == (0, logged) and logged > 10
        # The writer's own checkpoint finds nothing left to copy.
        assert conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone() == (0, logged, logged)


def test_pokes_within_the_interval_wait_for_it_and_close_does_not(tmp_path: Path) -> None:
    conn = _wal_writer(tmp_path / "wal.db")
    checkpointer = BackgroundCheckpointer(str(tmp_path / "wal.db"), interval=60, min_bytes=0)
    checkpointer.start()
    try:
        _write(conn, 10)
        checkpointer.poke()
        assert checkpointer.wait_for_run(0, timeout=10)
        _write(conn, 10)
        checkpointer.poke()
        assert not checkpointer.wait_for_run(1, timeout=0.5)
        assert checkpointer.runs == 1
    finally:
        started = time.monotonic()
        checkpointer.close()
        conn.close()
    # Closing interrupts the pause (60 s) instead of waiting it out.
    assert time.monotonic() - started < 10


def test_a_failing_checkpoint_is_counted_and_said(tmp_path: Path) -> None:
    garbage = tmp_path / "not-a.db"
    garbage.write_bytes(b"this is not a database" * 500)
    checkpointer = BackgroundCheckpointer(str(garbage), interval=0, min_bytes=0)
    checkpointer.start()
    try:
        checkpointer.poke()
        assert checkpointer.wait_for_run(0, timeout=10)
        assert (checkpointer.runs, checkpointer.errors) == (0, 1)
        assert checkpointer.last_error is not None
        assert "not a database" in checkpointer.last_error
    finally:
        checkpointer.close()


def test_a_database_below_the_size_is_left_to_sqlite(tmp_path: Path) -> None:
    with _running(tmp_path / "wal.db", min_bytes=1 << 30) as (conn, checkpointer):
        _write(conn, 500)
        checkpointer.poke()
        assert checkpointer.wait_for_run(0, timeout=10)
        assert (checkpointer.runs, checkpointer.skipped) == (0, 1)
        assert checkpointer.last is None


@pytest.mark.parametrize("interval", [0.0, 60.0])
def test_close_without_a_poke_is_clean(tmp_path: Path, interval: float) -> None:
    _wal_writer(tmp_path / "wal.db").close()
    checkpointer = BackgroundCheckpointer(str(tmp_path / "wal.db"), interval=interval)
    checkpointer.start()
    checkpointer.close()
    assert (checkpointer.runs, checkpointer.errors) == (0, 0)
