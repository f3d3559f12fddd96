"""An export written to a file from inside the console, without blocking its event loop.

Lines are produced by `export.export_lines` and written in chunks from a worker thread,
into a temporary file beside the target that is renamed over it at the end: a half-made
export (an error, the console quit) never sits under the name of a finished one.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from tui.store import MessageFilter, Store

from .export import ExportFormat, export_lines

CHUNK_LINES = 500


def _open_temp(target: Path) -> tuple[IO[str], Path]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    return os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline=""), Path(name)


def _finish(out: IO[str], temp: Path, target: Path) -> None:
    out.flush()
    os.fsync(out.fileno())
    out.close()
    temp.replace(target)


def _abandon(out: IO[str], temp: Path) -> None:
    out.close()
    temp.unlink(missing_ok=True)


async def export_to_file(
    store: Store,
    target: Path,
    fmt: ExportFormat,
    flt: MessageFilter | None = None,
    *,
    masked: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write the messages `flt` selects to `target`; returns how many were written."""
    out, temp = await asyncio.to_thread(_open_temp, target)
    count = 0
    chunk: list[str] = []
    try:
        async for line in export_lines(store, fmt, flt, masked=masked):
            chunk.append(line)
            if len(chunk) >= CHUNK_LINES:
                await asyncio.to_thread(out.write, "".join(chunk))
                count += len(chunk)
                chunk.clear()
                if on_progress is not None:
                    on_progress(count)
        await asyncio.to_thread(out.write, "".join(chunk))
        count += len(chunk)
        await asyncio.to_thread(_finish, out, temp, target)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(_abandon, out, temp))
        raise
    return count - (1 if fmt is ExportFormat.CSV else 0)  # the CSV header is not a message
