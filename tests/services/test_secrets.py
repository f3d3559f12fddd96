"""The auth token never reaches logs, the database or exports, whatever happened."""

import logging
from pathlib import Path

import pytest

from tui.emulator.faults import Operation
from tui.services.export import ExportFormat, export_lines
from tui.services.lifecycle import Draft
from tui.services.reconcile import Reconciler

from .conftest import TO, make_world


def _all_bytes(folder: Path, pattern: str) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob(pattern)))


async def test_token_is_nowhere_after_a_busy_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_world(tmp_path, "chaos", receiver=True) as world:
        token = world.local.credentials.auth_token
        for i in range(10):
            await world.lifecycle.send(Draft(to=TO, body=f"s{i}"))
        world.local.faults.fail_after_commit(Operation.CREATE)
        await world.lifecycle.send(Draft(to=TO, body="lost answer"))
        world.local.emulator.opt_out(TO, "+14155550111")
        await world.lifecycle.send(Draft(to=TO, body="refused"))
        await world.local.carrier.idle()
        await Reconciler(world.lifecycle).run_once()
        exports = [line for fmt in ExportFormat async for line in export_lines(world.store, fmt)]
        assert len(exports) > 10
        assert token not in "".join(exports)
        assert "outcome unknown" in caplog.text  # the logs were really captured
        assert token not in repr(world.gateway) and token not in caplog.text
    database = _all_bytes(tmp_path, "lifecycle.db*")
    assert database  # the database and its WAL were really read
    assert token.encode() not in database
