"""Checkpoints of the write-ahead log on a thread of the writer process, beside its commits.

SQLite's automatic checkpoint runs inside the COMMIT that takes the log past its threshold
(1,000 pages): that COMMIT copies the pages of the last few batches into the database file
and fsyncs the file before it returns, and every callback in its batch waits for that. On
the console's benchmark database (1.2 GB, updates scattered over it, ~6 pages per callback)
that was every fourth batch or so, and the pipeline of batches stalled behind it.

Here a thread of the writer process copies the log on a connection of its own, at most once
per `INTERVAL`, woken by commits: while it copies and fsyncs (sqlite3 releases the GIL), the
writer goes on with the next batch. Its checkpoints are PASSIVE: they never wait for the
writer or for readers, and copy what no reader still needs. The writer keeps its automatic
checkpoint: it is what lets the log start over from its beginning (a checkpoint beside a
busy writer is always a commit or so behind), and it now finds most pages already copied.

Only for a database bigger than the writer's page cache (`MIN_DATABASE_BYTES`). Below it a
batch changes the same few hot pages over and over; checkpointing them every `INTERVAL`
instead of every 1,000 pages copied and synced them several times more often, and
`msgwatch serve` on a fresh database, which keeps two cores busy, lost ~4.5% of its rate to
that extra work (4 alternating pairs). On the 1.2 GB database the console acknowledged
~14% more callbacks a second (4 of 4 pairs), and a checkpoint of 1,000 pages took 22-28 ms
against 11-15 ms on a 25 MB one.

Durability is unchanged: a commit is durable once the log is synced (`synchronous=FULL`);
a checkpoint only moves committed pages into the database file, and a crash in the middle
of one is recovered from the log.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

# At most one background checkpoint per this many seconds: about one per batch on a big
# database under load (batches take 25-40 ms there), each one a database-file sync.
INTERVAL = 0.025
# Smaller databases are left to SQLite's own checkpoint (see above). The writer's page
# cache is this size (store.WRITER_CACHE_KIB).
MIN_DATABASE_BYTES = 64 * 1024 * 1024
# How often the database's size is looked at again (it grows while the writer runs).
SIZE_CHECK_EVERY = 1.0


class BackgroundCheckpointer:
    """A thread that checkpoints `path`'s write-ahead log when poked, at most every `interval`."""

    def __init__(
        self, path: str, *, interval: float = INTERVAL, min_bytes: int = MIN_DATABASE_BYTES
    ) -> None:
        self.path = path
        self.interval = interval
        self.min_bytes = min_bytes
        self.runs = 0  # checkpoints completed
        self.skipped = 0  # pokes passed over: the database is below min_bytes
        self.errors = 0
        self.last_error: str | None = None
        # (busy, pages in the log, pages copied) from the last checkpoint.
        self.last: tuple[int, int, int] | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._ran = threading.Condition()
        self._big = False
        self._size_checked = -SIZE_CHECK_EVERY
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    @classmethod
    def for_connection(cls, conn: sqlite3.Connection) -> BackgroundCheckpointer | None:
        """One for `conn`'s database if it is a file in WAL mode; None otherwise."""
        mode = conn.execute("PRAGMA journal_mode").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            return None
        databases = conn.execute("PRAGMA database_list").fetchall()
        path = next((row[2] for row in databases if row[1] == "main"), "")
        return cls(path) if path else None

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Something was committed: checkpoint soon."""
        self._wake.set()

    def wait_for_run(self, after: int, timeout: float) -> bool:
        """Wait until more than `after` pokes have been served (copied, failed or skipped)."""
        with self._ran:
            return self._ran.wait_for(
                lambda: self.runs + self.errors + self.skipped > after, timeout
            )

    def close(self) -> None:
        """Stop after the checkpoint under way, if any; close the thread's connection."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    return
                self._wake.clear()
                started = time.monotonic()
                if not self._worth_it(started):
                    with self._ran:
                        self.skipped += 1
                        self._ran.notify_all()
                    continue
                conn = self._checkpoint(conn)
                # Pokes meanwhile are kept (the event stays set) and served after the pause.
                if self._stop.wait(max(0.0, started + self.interval - time.monotonic())):
                    return
        finally:
            if conn is not None:
                conn.close()

    def _worth_it(self, now: float) -> bool:
        if not self._big and now - self._size_checked >= SIZE_CHECK_EVERY:
            self._size_checked = now
            try:
                self._big = os.path.getsize(self.path) >= self.min_bytes
            except OSError:
                self._big = False
        return self._big

    def _checkpoint(self, conn: sqlite3.Connection | None) -> sqlite3.Connection | None:
        """One PASSIVE checkpoint, opening the connection first if need be."""
        try:
            if conn is None:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                # The checkpoint syncs the database file before it counts pages as copied.
                conn.execute("PRAGMA synchronous = FULL")
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            # The writer's own automatic checkpoint still bounds the log; say why here.
            with self._ran:
                self.errors += 1
                self.last_error = str(exc)
                self._ran.notify_all()
            return conn
        with self._ran:
            self.runs += 1
            self.last = (int(row[0]), int(row[1]), int(row[2]))
            self._ran.notify_all()
        return conn
