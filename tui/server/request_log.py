"""The receiver's one line per request, written in batches.

A log record per request cost 12% of `msgwatch serve`'s event loop under load (a
LogRecord, the caller's frame, the formatter and a write each time). Here a line is one
f-string, kept until the batch is written: a tenth of a second after its first line, at
1,000 lines, or when the receiver stops. Each line carries its own time, in the same
format as every other line of `msgwatch serve`, so the output reads the same; a batch is
one record marked `preformatted`, which `LineFormatter` writes as it is.
"""

from __future__ import annotations

import asyncio
import logging
import time

LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
FLUSH_AFTER_S = 0.1
MAX_LINES = 1000


class LineFormatter(logging.Formatter):
    """LINE_FORMAT, except that a batch of lines formatted already is written as it is."""

    def __init__(self) -> None:
        super().__init__(LINE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "preformatted", False):
            return record.getMessage()
        return super().format(record)


class RequestLog:
    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._lines: list[str] = []
        self._level = logging.NOTSET  # the highest level among the lines kept
        self._timer: asyncio.TimerHandle | None = None
        self._second = -1
        self._stamp = ""

    def add(self, level: int, text: str) -> None:
        """Keep one line (text must already be safe to print: see receiver.loggable)."""
        if not self._logger.isEnabledFor(level):
            return
        now = time.time()
        second = int(now)
        if second != self._second:  # strftime once a second, not once a line
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        millis = int((now - second) * 1000)
        name = logging.getLevelName(level)
        self._lines.append(f"{self._stamp},{millis:03d} {name} {self._logger.name} {text}")
        self._level = max(self._level, level)
        if len(self._lines) >= MAX_LINES:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop: nothing would ever write the batch
                self.flush()
            else:
                self._timer = loop.call_later(FLUSH_AFTER_S, self.flush)

    def flush(self) -> None:
        """Write the lines kept so far as one record."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        text = "\n".join(self._lines)
        level = self._level
        self._lines = []
        self._level = logging.NOTSET
        self._logger.log(level, "%s", text, extra={"preformatted": True})
