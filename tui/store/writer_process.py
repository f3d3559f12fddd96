"""The writer's own process: one sqlite3 connection that every write runs on.

A group-commit batch (look-ups, merges, inserts, COMMIT) is one call into this process.
It used to be a thread of the caller's process, where its Python work (de-duplication
keys, merges, row building: ~60 us per callback) competed for the GIL with the event loop
that parses, verifies and answers the requests, and with the console's rendering. Under
load the two took turns on one core: `msgwatch serve` used 98% CPU, 57% in the loop and
41% in the writer, and each batch's wall time tripled while its statements waited for the
GIL. In its own process the writer has its own interpreter and the loop keeps its core.

The two talk over a socket pair: a call is a length-prefixed pickle of (function, args),
answered in order by (ok, result or exception). The event loop reads the answers itself;
there is no helper thread in this process (concurrent.futures' process pool has two, and
they competed for the GIL like the writer thread did). Functions sent must be importable
module-level functions or partials of them.

The child has one thread besides its main one: the background checkpointer
(checkpointer.py), poked after each call that changed something, which copies the log into
a big database file while the next batch runs.

The child ignores SIGINT: Ctrl-C in a terminal reaches the whole process group, and the
child must not die mid-transaction while the parent shuts down cleanly; the parent closes
it. If the parent dies, the child reads end-of-file and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
import signal
import socket
import sqlite3
import struct
import sys
import time
from collections import deque
from collections.abc import Callable
from multiprocessing import forkserver
from multiprocessing.context import SpawnContext
from typing import Any, TypeVar, cast

from .checkpointer import BackgroundCheckpointer

T = TypeVar("T")

_HEADER = struct.Struct("!I")
_STOP = b""  # an empty frame asks the child to close its connection and exit

# Statements recorded in the child by start_trace (for query-plan checks).
_trace: list[str] | None = None
# The child's background checkpointer, if its database is a WAL file (see checkpointer.py).
_checkpointer: BackgroundCheckpointer | None = None
# Seconds the child has spent on calls, from a call's arrival to its answer sent (waiting
# for the next one excluded): its share of wall time says how near the writer is to the
# most it can take (busy_seconds).
_busy = 0.0


class WriterGoneError(RuntimeError):
    """The writer process is not running (it was killed, or the store is closed)."""


# --- the child ---------------------------------------------------------------------------


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _reply(sock: socket.socket, ok: bool, value: object) -> None:
    try:
        payload = pickle.dumps((ok, value), pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable result or exception: say what it was
        payload = pickle.dumps((False, RuntimeError(f"writer: {value!r} ({exc})")))
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _child_main(sock: socket.socket, connect: Callable[[], sqlite3.Connection]) -> None:
    global _checkpointer, _busy
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        conn = connect()
    except Exception as exc:
        _reply(sock, False, exc)
        return
    try:
        _checkpointer = BackgroundCheckpointer.for_connection(conn)
    except sqlite3.Error as exc:
        conn.close()
        _reply(sock, False, exc)
        return
    if _checkpointer is not None:
        _checkpointer.start()
    _reply(sock, True, None)
    changes = conn.total_changes
    try:
        while True:
            header = _recv_exact(sock, _HEADER.size)
            if header is None:  # the parent is gone
                return
            started = time.perf_counter()  # from here to the reply sent: busy
            frame = _recv_exact(sock, _HEADER.unpack(header)[0])
            if not frame:  # _STOP, or the parent went away mid-frame
                return
            try:
                # Trusted: our own parent, over a socket pair no one else holds.
                fn, args = pickle.loads(frame)  # noqa: S301
                result = fn(conn, *args)
            except Exception as exc:
                _reply(sock, False, exc)
            else:
                _reply(sock, True, result)
            if _checkpointer is not None and conn.total_changes != changes:
                changes = conn.total_changes
                _checkpointer.poke()
            _busy += time.perf_counter() - started
    finally:
        # The checkpointer's connection closes first, so that the writer's is the last:
        # SQLite then checkpoints the whole log and deletes it, as before.
        if _checkpointer is not None:
            _checkpointer.close()
        conn.close()
        sock.close()


def start_trace(conn: sqlite3.Connection) -> None:
    """Record every statement the writer runs from now on."""
    global _trace
    _trace = []
    conn.set_trace_callback(_trace.append)


def stop_trace(conn: sqlite3.Connection) -> list[str]:
    """Stop recording; return the statements run since `start_trace`."""
    global _trace
    conn.set_trace_callback(None)
    statements, _trace = _trace or [], None
    return statements


def busy_seconds(conn: sqlite3.Connection) -> float:
    """Seconds this writer has spent on calls since it started (this one not counted)."""
    return _busy


def checkpoint_counts(
    conn: sqlite3.Connection, wait_past: int = -1, timeout: float = 10.0
) -> tuple[int, int, int] | None:
    """(copied, skipped, failed) of the background checkpointer, once more than `wait_past`
    pokes have been served (or `timeout` passed); None if this writer has none."""
    if _checkpointer is None:
        return None
    _checkpointer.wait_for_run(wait_past, timeout)
    return (_checkpointer.runs, _checkpointer.skipped, _checkpointer.errors)


# --- the parent --------------------------------------------------------------------------


def _context() -> SpawnContext:
    # forkserver: the child forks from a clean single-threaded server, not from this
    # process (which runs the event loop's and aiosqlite's threads); spawn elsewhere.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Imported once in the server rather than in every child: a store opens in ~10 ms.
    context.set_forkserver_preload(["tui.store.store"])
    return cast("SpawnContext", context)


def ensure_forkserver() -> None:
    """Start the forkserver (and multiprocessing's resource tracker) now, if not running.

    Call it before a UI takes over the terminal: Textual swaps sys.stderr for an object
    whose fileno() is -1, and multiprocessing hands stderr's descriptor to the resource
    tracker it starts, which then fails ("bad value(s) in fds_to_keep"). Started later, the
    real stderr is lent for the moment of the start.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    _context()
    saved = sys.stderr
    try:
        usable = saved is not None and saved.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if not usable and sys.__stderr__ is not None:
        sys.stderr = sys.__stderr__
    try:
        forkserver.ensure_running()
    finally:
        sys.stderr = saved


class WriterProcess:
    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._replies: asyncio.Task[None] | None = None

    async def start(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Start the child and open the connection there; `connect` must be picklable.
        Its exception, if it raises, is raised here."""
        ours, theirs = socket.socketpair()
        try:
            process = _context().Process(
                target=_child_main, args=(theirs, connect), name="msgwatch-writer", daemon=True
            )
            # Starting blocks while the forkserver forks (and, the first time, starts).
            ensure_forkserver()
            await asyncio.to_thread(process.start)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._process = process
        self._reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        opened: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(opened)
        self._replies = asyncio.create_task(self._read_replies(), name="store-writer-replies")
        try:
            await opened
        except BaseException:
            await self.close()
            raise

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(conn, *args)` in the writer process. Calls run in the order they are made."""
        if self._writer is None or self._replies is None or self._replies.done():
            raise WriterGoneError("the database writer process is not running")
        payload = pickle.dumps((fn, args), pickle.HIGHEST_PROTOCOL)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        self._writer.write(_HEADER.pack(len(payload)) + payload)
        await self._writer.drain()
        return await future

    async def _read_replies(self) -> None:
        assert self._reader is not None
        try:
            while True:
                header = await self._reader.readexactly(_HEADER.size)
                frame = await self._reader.readexactly(_HEADER.unpack(header)[0])
                ok, value = pickle.loads(frame)  # noqa: S301 (our own child, see above)
                future = self._waiting.popleft()
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            while self._waiting:
                future = self._waiting.popleft()
                if not future.done():
                    future.set_exception(WriterGoneError("the database writer process has stopped"))

    async def close(self) -> None:
        """Let the child finish what it was sent, close its connection, and exit."""
        if self._writer is not None:
            with contextlib.suppress(ConnectionError):
                self._writer.write(_HEADER.pack(len(_STOP)))
                await self._writer.drain()
        if self._replies is not None:
            await self._replies  # ends at the child's end-of-file, after its last answer
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        if self._process is not None:
            await asyncio.to_thread(self._process.join, 10)
            if self._process.is_alive():  # stuck: do not leave it holding the database
                self._process.kill()
                await asyncio.to_thread(self._process.join, 5)
        self._writer = self._reader = self._process = self._replies = None
