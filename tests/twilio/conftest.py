"""The emulator on a real loopback port and a Gateway pointed at it; retries wait through
a recording `sleep` that returns at once, so back-off is asserted, not waited for."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from tui.emulator.accounts import Credentials
from tui.emulator.emulator import Emulator
from tui.emulator.faults import Faults
from tui.emulator.runner import EmulatorServer
from tui.twilio import Gateway, RetryPolicy

TO, FROM = "+14155550100", "+14155550111"
MG = "MG" + "a" * 32


@dataclass
class Sleeps:
    """Stands in for asyncio.sleep: records each wait and returns immediately."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass
class Local:
    server: EmulatorServer
    emulator: Emulator
    credentials: Credentials
    base_url: str
    sleeps: Sleeps

    @property
    def faults(self) -> Faults:
        return self.server.faults

    def gateway(self, **kwargs: object) -> Gateway:
        options: dict[str, object] = {
            "api_base": self.base_url,
            "timeout": 2.0,
            "retry": RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0),
            "sleep": self.sleeps,
            "jitter": lambda: 1.0,  # the top of each back-off window: delays are exact
        }
        options.update(kwargs)
        creds = self.credentials
        return Gateway(creds.account_sid, creds.account_sid, creds.auth_token, **options)  # type: ignore[arg-type]

    def stored(self) -> list[str]:
        """The SIDs of every message the emulator holds."""
        return [m.sid for m in self.emulator.book]


@pytest.fixture
async def local() -> AsyncIterator[Local]:
    credentials = Credentials.generate()
    emulator = Emulator(credentials)
    server = EmulatorServer(emulator)
    base_url = await server.start()
    try:
        yield Local(server, emulator, credentials, base_url, Sleeps())
    finally:
        await server.stop()


@pytest.fixture
async def gateway(local: Local) -> AsyncIterator[Gateway]:
    async with local.gateway() as gw:
        yield gw
