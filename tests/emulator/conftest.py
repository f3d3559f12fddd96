"""The emulator on a real loopback port, and official twilio SDK clients pointed at it."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from tui.emulator.accounts import Credentials
from tui.emulator.emulator import Emulator
from tui.emulator.runner import EmulatorServer


@dataclass
class Running:
    server: EmulatorServer
    emulator: Emulator
    credentials: Credentials
    base_url: str

    def sync_client(self, sid: str | None = None, secret: str | None = None) -> Client:
        client = Client(sid or self.credentials.account_sid, secret or self.credentials.auth_token)
        client.api.base_url = self.base_url  # the SDK's documented host override
        return client


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    credentials = Credentials.generate()
    emulator = Emulator(credentials)
    server = EmulatorServer(emulator)
    base_url = await server.start()
    try:
        yield Running(server, emulator, credentials, base_url)
    finally:
        await server.stop()


@pytest.fixture
async def client(running: Running) -> AsyncIterator[Client]:
    http = AsyncTwilioHttpClient()
    c = Client(running.credentials.account_sid, running.credentials.auth_token, http_client=http)
    c.api.base_url = running.base_url
    try:
        yield c
    finally:
        await http.close()
