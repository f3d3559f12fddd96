"""A local Twilio (API + carrier), a real store file, the gateway and the lifecycle over
them; optionally the receiver, for callback mode."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tui.emulator.runner import LocalTwilio
from tui.emulator.scenarios import PRESETS
from tui.server.receiver import Receiver, ReceiverConfig
from tui.server.runner import ReceiverServer
from tui.server.verify import SignatureConfig
from tui.services.lifecycle import Lifecycle
from tui.store import Store
from tui.twilio.gateway import Gateway

TO, FROM = "+14155550100", "+14155550111"
MG = "MG" + "a" * 32


@dataclass
class World:
    local: LocalTwilio
    store: Store
    gateway: Gateway
    lifecycle: Lifecycle
    receiver: Receiver | None = None


# A context manager, not a bare async generator: a failing test's `async for` body would
# leave the generator (and the store's thread) open, and pytest would hang at exit.
@asynccontextmanager
async def make_world(
    tmp_path: Path, scenario: str = "happy", *, receiver: bool = False, speed: float = 10_000
) -> AsyncIterator[World]:
    preset = replace(PRESETS[scenario], reply=0.0)
    local = LocalTwilio(scenario=preset, speed=speed, seed=11)
    base = await local.start()
    store = await Store.open(tmp_path / "lifecycle.db")
    creds = local.credentials
    gateway = Gateway(creds.account_sid, creds.account_sid, creds.auth_token, api_base=base)
    await gateway.start()
    server = None
    rec = None
    public_url = None
    if receiver:
        rec = Receiver(store, ReceiverConfig(SignatureConfig(creds.auth_token)))
        server = ReceiverServer(rec, port=0)
        public_url = await server.start()
    lifecycle = Lifecycle(store, gateway, public_url=public_url, default_from=FROM)
    try:
        yield World(local, store, gateway, lifecycle, rec)
    finally:
        await local.stop()
        if server is not None:
            await server.stop()
        await gateway.close()
        await store.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with make_world(tmp_path) as w:
        yield w


@pytest.fixture
async def world_with_receiver(tmp_path: Path) -> AsyncIterator[World]:
    async with make_world(tmp_path, receiver=True) as w:
        yield w
