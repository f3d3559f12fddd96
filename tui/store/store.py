"""The store: one SQLite file, one writer connection behind group commit, one reader.

Durability: `synchronous=FULL` in WAL mode. An acknowledged callback must survive a power
cut, because Twilio does not send it again: by default it retries only when it could not
connect (connection-overrides doc). With NORMAL, WAL commits are durable against a process
crash but the last ones can be lost on an OS crash. FULL costs one fsync per commit, and
group commit shares that fsync among every writer in the batch (perf-anchors: E0 with FULL
4.5k req/s vs 6.7k with NORMAL, on this machine's 0.24 ms fsync).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from tui.domain.status import DEFAULT_STUCK_AFTER, MessageStatus

from . import queries, triage_queries, window_queries
from .change_feed import Change, ChangeFeed, Subscription
from .edits import (
    DeleteLocal,
    RedactLocal,
    RefreshStatistics,
    SetSyncState,
    StoreEdit,
    apply_edit,
)
from .group_commit import GroupCommitWriter
from .ingest import ingest_events, insert_local
from .records import (
    Cursor,
    IncomingEvent,
    IngestResult,
    LocalMessage,
    MessageFilter,
    Page,
    Prepared,
    PreparedResult,
    StoredEvent,
    StoredMessage,
    Unprepared,
)
from .schema import LATEST_VERSION, SchemaError, migration_steps
from .triage_queries import FailureGroupRow
from .writer_process import WriterProcess, busy_seconds

WriteOp = IncomingEvent | Unprepared | LocalMessage | StoreEdit
# IngestResult for an event (wrapped in a PreparedResult for an Unprepared one); a message
# id for a local send or an edit that changed one; None for an edit that changed nothing.
WriteResult = IngestResult | PreparedResult | int | None

# Page cache per connection, in KiB (negative = KiB for SQLite). The SID index has random
# keys, so every write lands on a different page of it; SQLite's default 2 MB cache turns
# each into a read once the database passes a few hundred MB.
# (perf-anchors: 68k -> 78k rows/s with 64 MB on the app's schema.)
WRITER_CACHE_KIB = 64 * 1024
READER_CACHE_KIB = 32 * 1024
# The aggregates connection's counts for a filter (recipient, words, stuck) read far more
# pages than any cache here would hold (a status index alone is ~40 MB at a million
# rows): a big cache only churned, and held ~25 MiB of the console's memory for it.
# Counts for the whole store or by status alone read the small table the writer keeps.
AGGREGATES_CACHE_KIB = 8 * 1024

# How long a write waits for another process's write lock (a second console, `serve`)
# before failing: long enough to ride out a big batch, short enough to answer Twilio
# well inside its 15 s read timeout.
BUSY_TIMEOUT_MS = 5000


class StoreError(RuntimeError):
    """The database could not be opened or written; the message says why in one sentence."""


def _pragmas(*, readonly: bool, cache_kib: int) -> list[str]:
    pragmas = [f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", f"PRAGMA cache_size = -{cache_kib}"]
    if readonly:
        pragmas.append("PRAGMA query_only = 1")
    else:
        pragmas.append("PRAGMA synchronous = FULL")
    pragmas.append("PRAGMA foreign_keys = ON")
    return pragmas


def _connect_writer(path: Path) -> sqlite3.Connection:
    """The writer's connection, opened and migrated in the writer process."""
    # isolation_level=None: no implicit transactions; the writer issues BEGIN IMMEDIATE
    # and COMMIT itself so that a batch is exactly one transaction.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StoreError(f"{path} cannot use write-ahead logging (got {mode}).")
        for pragma in _pragmas(readonly=False, cache_kib=WRITER_CACHE_KIB):
            conn.execute(pragma)
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


async def _connect_reader(path: Path, cache_kib: int = READER_CACHE_KIB) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in _pragmas(readonly=True, cache_kib=cache_kib):
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    return conn


@asynccontextmanager
async def _read_transaction(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    """One WAL read transaction: every read inside sees the same committed state. One at a
    time per connection (the caller holds that connection's lock)."""
    await conn.execute("BEGIN")
    try:
        yield
    finally:
        await conn.execute("COMMIT")


def _user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Bring the schema to `target`, one version per transaction. Safe if two processes
    open the same new file at once: each step re-reads the version under the write lock."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = _user_version(conn)
            steps = migration_steps(current, target)
            if not steps:
                conn.execute("COMMIT")
                return current
            version, statements = steps[0]
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _explain(path: Path, exc: Exception) -> StoreError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(f"{path} is locked by another process; try again or use another file.")
    if "not a database" in text or "malformed" in text:
        return StoreError(f"{path} is not a msgwatch database (or is damaged): {text}.")
    if "already exists" in text:
        return StoreError(f"{path} is an SQLite database of another program, not msgwatch's.")
    if "unable to open" in text:
        return StoreError(f"{path} cannot be opened: check the folder exists and is writable.")
    return StoreError(f"{path}: {text}")


class Store:
    """Open with `await Store.open(path)` (or `async with await Store.open(path)`)."""

    def __init__(self, path: Path, process: WriterProcess, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._process = process
        self._reader = reader
        # A second reader for whole-list aggregates (counts by status): at a million rows
        # one takes 0.1-0.5 s, and on the first connection it would queue every page read
        # behind it. Opened on first use.
        self._aggregates: aiosqlite.Connection | None = None
        self._aggregates_lock = asyncio.Lock()
        self.changes = ChangeFeed()
        self._snapshot_lock = asyncio.Lock()
        self._writer: GroupCommitWriter[WriteOp, WriteResult] = GroupCommitWriter(
            process, _apply_batch, on_commit=self._publish
        )

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        path = Path(path)
        process = WriterProcess()
        try:
            await process.start(partial(_connect_writer, path))
            reader = await _connect_reader(path)
        except BaseException as exc:
            await process.close()
            if isinstance(exc, SchemaError):
                raise StoreError(str(exc)) from exc
            if isinstance(exc, sqlite3.Error):
                raise _explain(path, exc) from exc
            raise
        store = cls(path, process, reader)
        store._writer.start()
        return store

    def _publish(self, results: Sequence[WriteResult]) -> None:
        changes: list[Change] = []
        for r in results:
            if isinstance(r, PreparedResult):
                r = r.result
            if isinstance(r, int):  # a local send or edit: followers re-read the row
                changes.append(Change(r, None))
            elif r is not None and r.changed and r.message_id is not None:
                changes.append(Change(r.message_id, r.status))
        self.changes.publish(changes)

    def subscribe(self) -> Subscription:
        """Changes committed from now on, coalesced per message (see change_feed)."""
        return self.changes.subscribe()

    async def close(self) -> None:
        """Commit what is queued, then close both connections."""
        await self._writer.close()
        self.changes.close()
        await self._reader.close()
        if self._aggregates is not None:
            await self._aggregates.close()
        await self._process.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- writes: each returns only after its transaction has committed ---------------

    async def ingest(self, event: IncomingEvent) -> IngestResult:
        result = await self._writer.submit(event)
        assert isinstance(result, IngestResult)
        return result

    async def ingest_prepared(self, prepare: Callable[[Any], Prepared], raw: Any) -> PreparedResult:
        """Store the event `prepare(raw)` makes in the writer process (see Unprepared)."""
        result = await self._writer.submit(Unprepared(prepare, raw))
        assert isinstance(result, PreparedResult)
        return result

    async def record_local(self, local: LocalMessage) -> int:
        """Store a send begun here before its SID exists; returns the message id."""
        result = await self._writer.submit(local)
        assert isinstance(result, int)
        return result

    async def redact_local(self, message_id: int) -> None:
        """Blank this message's body here (row, events, search index)."""
        await self._writer.submit(RedactLocal(message_id))

    async def delete_local(self, message_id: int) -> None:
        """Forget this message here: its row, events and media."""
        await self._writer.submit(DeleteLocal(message_id))

    async def set_sync_state(self, key: str, value: str | None) -> None:
        """Remember (or, with None, forget) a small piece of progress, e.g. where an
        import stopped."""
        await self._writer.submit(SetSyncState(key, value))

    async def refresh_statistics(self) -> None:
        """Sampled ANALYZE, so the planner picks good plans on a big database (see
        edits.RefreshStatistics); holds the write lock for a moment, so run it in the
        background after start-up, not before the first screen."""
        await self._writer.submit(RefreshStatistics())

    async def get_sync_state(self, key: str) -> str | None:
        async with self._reader.execute(
            "SELECT value FROM sync_state WHERE key = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    @property
    def write_stats(self) -> tuple[int, int, int]:
        """(batches committed, operations, largest batch): how much group commit shares."""
        w = self._writer
        return w.batches, w.ops, w.largest_batch

    async def writer_busy_seconds(self) -> float:
        """Seconds the writer process has spent on calls (batches, edits) since it started.
        Its rate against wall time is the writer's utilisation: batches queue as it nears 1."""
        return await self._process.call(busy_seconds)

    # -- reads ---------------------------------------------------------------------

    async def page(
        self, flt: MessageFilter | None = None, after: Cursor | None = None, limit: int = 200
    ) -> Page:
        return await queries.page(self._reader, flt or MessageFilter(), after, limit)

    async def count_by_status(
        self, flt: MessageFilter | None = None
    ) -> dict[MessageStatus | None, int]:
        return await queries.count_by_status(self._reader, flt)

    async def count_by_error(self, flt: MessageFilter | None = None) -> list[tuple[int, int]]:
        return await queries.count_by_error(self._reader, flt)

    async def in_flight_older_than(
        self,
        now: datetime,
        age: timedelta = DEFAULT_STUCK_AFTER,
        limit: int = 1000,
        after: tuple[float, int] | None = None,
    ) -> list[StoredMessage]:
        return await queries.in_flight_older_than(self._reader, age, now, limit, after)

    async def unsent_older_than(
        self, now: datetime, age: timedelta, limit: int = 100
    ) -> list[StoredMessage]:
        """Sends begun here that never got a SID or an outcome (the create's answer was
        lost), begun more than `age` before `now`: candidates for reconciliation."""
        return await queries.unsent_older_than(self._reader, age, now, limit)

    async def changed_since(self, seq: int, limit: int = 1000) -> list[StoredMessage]:
        return await queries.changed_since(self._reader, seq, limit)

    async def get_message(
        self, *, id: int | None = None, sid: str | None = None, local_id: str | None = None
    ) -> StoredMessage | None:
        return await queries.get_message(self._reader, id=id, sid=sid, local_id=local_id)

    async def events_for(self, message_id: int) -> list[StoredEvent]:
        return await queries.events_for(self._reader, message_id)

    async def rejected_events(self, limit: int = 100) -> list[StoredEvent]:
        return await queries.rejected_events(self._reader, limit)

    async def rejected_events_for(
        self, sid: str | None, local_id: str | None, limit: int = 200
    ) -> list[StoredEvent]:
        """Rejected events that claimed this SID or local id, oldest first (they are
        stored unattached, so `events_for` leaves them out)."""
        return await queries.rejected_events_for(self._reader, sid, local_id, limit)

    async def media_for(self, message_id: int) -> list[str]:
        return await queries.media_for(self._reader, message_id)

    async def recent_recipients(self, limit: int = 10) -> list[str]:
        """Distinct recipients of the newest outbound messages, newest first."""
        return await queries.recent_recipients(self._reader, limit)

    async def failure_groups(self, since: datetime | None) -> list[FailureGroupRow]:
        """Problem messages (outcome learned at/after `since`) per error code, sender and
        recipient: what the triage view groups by country and sender."""
        return await triage_queries.failure_groups(self._reader, since)

    async def failure_trend(
        self, since: datetime, bucket_seconds: float
    ) -> list[tuple[int | None, int, int]]:
        """(error code, bucket, count) of problem messages since `since`."""
        return await triage_queries.failure_trend(self._reader, since, bucket_seconds)

    async def outcome_totals(self, since: datetime | None) -> tuple[int, int]:
        """(outbound messages with a delivery outcome, of which problems) since `since`."""
        return await triage_queries.outcome_totals(self._reader, since)

    async def data_version(self) -> int:
        """Changes when any connection (this process or another) commits: a cheap
        "has anything changed?" for consoles that follow a store another process writes."""
        async with self._reader.execute("PRAGMA data_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # -- the console's scrolling window (see window_queries) ---------------------------

    @asynccontextmanager
    async def read_snapshot(self) -> AsyncIterator[None]:
        """Reads inside this block see one committed state of the database (a WAL read
        transaction), so a count and a page taken together agree with each other."""
        async with self._snapshot_lock, _read_transaction(self._reader):
            yield

    async def page_at(
        self, flt: MessageFilter, anchor: Cursor, offset: int, limit: int
    ) -> list[StoredMessage]:
        return await window_queries.page_at(self._reader, flt, anchor, offset, limit)

    async def page_newer(
        self, flt: MessageFilter, than: Cursor, limit: int, anchor: Cursor | None = None
    ) -> list[StoredMessage]:
        return await window_queries.page_newer(self._reader, flt, than, limit, anchor)

    async def count_snapshot(
        self, flt: MessageFilter, anchor: Cursor | None
    ) -> tuple[dict[MessageStatus | None, int], int]:
        """(counts by status of the rows matching `flt`, how many of them are newer than
        `anchor`), from one snapshot, on the aggregates connection so that page reads
        do not wait behind a long count."""
        async with self._aggregates_lock:
            if self._aggregates is None:
                self._aggregates = await _connect_reader(self.path, AGGREGATES_CACHE_KIB)
            conn = self._aggregates
            async with _read_transaction(conn):
                counts = await queries.count_by_status(conn, flt)
                above = 0
                if anchor is not None:
                    above = await window_queries.count_newer(conn, flt, anchor)
        return counts, above

    async def count_newer(self, flt: MessageFilter, than: Cursor) -> int:
        return await window_queries.count_newer(self._reader, flt, than)

    async def messages_by_id(self, ids: Sequence[int]) -> dict[int, StoredMessage]:
        return await window_queries.messages_by_id(self._reader, ids)

    async def max_change_seq(self) -> int:
        return await window_queries.max_change_seq(self._reader)


def _apply_batch(conn: sqlite3.Connection, ops: Sequence[WriteOp]) -> list[WriteResult]:
    """Apply ops in order inside the writer's transaction; runs of events go together."""
    results: list[WriteResult] = []
    run: list[IncomingEvent] = []
    # Per op of the run: the note of its Unprepared (wrapped around its result), or None.
    notes: list[tuple[Any] | None] = []

    def flush() -> None:
        if not run:
            return
        for note, result in zip(notes, ingest_events(conn, run), strict=True):
            results.append(result if note is None else PreparedResult(note[0], result))
        run.clear()
        notes.clear()

    for op in ops:
        if isinstance(op, Unprepared):
            prepared = op.prepare(op.raw)
            if prepared.event is None:  # refused: nothing to store, in its place in order
                flush()
                results.append(PreparedResult(prepared.note, None))
            else:
                run.append(prepared.event)
                notes.append((prepared.note,))
            continue
        if isinstance(op, IncomingEvent):
            run.append(op)
            notes.append(None)
            continue
        flush()
        if isinstance(op, LocalMessage):
            results.append(insert_local(conn, op))
        else:
            results.append(apply_edit(conn, op))
    flush()
    return results
