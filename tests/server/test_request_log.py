"""The receiver's per-request lines: batched, each with its own time, all written."""

import asyncio
import logging

import pytest

from tui.server import request_log
from tui.server.request_log import LineFormatter, RequestLog


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(LineFormatter())
        self.written: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.written.append(self.format(record))


@pytest.fixture
def logger() -> tuple[logging.Logger, Collect]:
    log = logging.getLogger("msgwatch.test.requests")
    log.propagate = False
    log.setLevel(logging.INFO)
    handler = Collect()
    log.handlers[:] = [handler]
    return log, handler


async def test_lines_are_written_together_after_a_moment(
    logger: tuple[logging.Logger, Collect],
) -> None:
    log, handler = logger
    lines = RequestLog(log)
    lines.add(logging.INFO, "callback sid=SM1 status=sent")
    lines.add(logging.WARNING, "rejected callback sid=SM2")
    assert handler.written == []  # nothing yet: the batch waits for its timer
    await asyncio.sleep(request_log.FLUSH_AFTER_S * 3)
    assert len(handler.written) == 1
    first, second = handler.written[0].split("\n")
    assert first.endswith(" INFO msgwatch.test.requests callback sid=SM1 status=sent")
    assert second.endswith(" WARNING msgwatch.test.requests rejected callback sid=SM2")
    assert first[:4].isdigit() and first[19] == ","  # "2026-11-23 22:01:02,123 ..."


async def test_a_full_batch_and_a_stop_write_at_once(
    logger: tuple[logging.Logger, Collect],
) -> None:
    log, handler = logger
    lines = RequestLog(log)
    for n in range(request_log.MAX_LINES + 1):
        lines.add(logging.INFO, f"line {n}")
    assert len(handler.written) == 1  # the thousandth line wrote the batch
    lines.flush()  # the receiver's stop: the last line is not left behind
    assert handler.written[1].endswith(f"line {request_log.MAX_LINES}")
    lines.flush()
    assert len(handler.written) == 2  # nothing kept, nothing written


def test_lines_below_the_level_cost_nothing(logger: tuple[logging.Logger, Collect]) -> None:
    log, handler = logger
    log.setLevel(logging.WARNING)  # as in the console
    lines = RequestLog(log)
    lines.add(logging.INFO, "callback sid=SM1")
    lines.add(logging.WARNING, "rejected callback sid=SM2")  # no loop: written at once
    assert len(handler.written) == 1 and "SM1" not in handler.written[0]


def test_ordinary_records_keep_the_usual_format() -> None:
    record = logging.LogRecord("msgwatch", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    assert LineFormatter().format(record).endswith(" INFO msgwatch hello x")
