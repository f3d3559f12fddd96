"""Running the emulator in-process: an aiohttp AppRunner on a loopback port.

Used by the console in demo mode, by tests (port 0, the real port read back) and by
`msgwatch emulator`. Never `web.run_app`: the emulator shares its loop with the UI.
"""

from __future__ import annotations

from aiohttp import web

from tui.domain.signature import Algorithm

from .accounts import Credentials
from .api import build_app
from .callbacks import CallbackSender
from .carrier import Carrier
from .emulator import Clock, Emulator, utc_now
from .faults import Faults
from .scenarios import Scenario, load_scenario


class EmulatorServer:
    """The Messages API alone (no carrier: messages stay as created).

    `faults` makes the API misbehave on purpose (see faults.py); empty by default.
    """

    def __init__(
        self,
        emulator: Emulator,
        host: str = "127.0.0.1",
        port: int = 0,
        sender: CallbackSender | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self.sender = sender
        self.faults = faults if faults is not None else Faults()
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Start listening; returns the base URL to give the SDK."""
        app = build_app(self.emulator, self.sender, self.faults)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the real port when asked for 0
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        self.faults.release()  # a hung answer must not hold up the shutdown
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class LocalTwilio:
    """The whole local Twilio: the API, the simulated carrier and its webhooks."""

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        scenario: Scenario | str = "happy",
        speed: float = 1.0,
        seed: int | None = None,
        inbound_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = utc_now,
        algorithm: Algorithm = Algorithm.HMAC_SHA1,
    ) -> None:
        self.credentials = credentials or Credentials.generate()
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self.emulator = Emulator(
            self.credentials,
            clock=clock,
            rate_limit_per_sender=self.scenario.rate_limit_per_sender,
        )
        self.sender = CallbackSender(algorithm)
        self.carrier = Carrier(
            self.emulator, self.scenario, self.sender, speed=speed, seed=seed,
            inbound_url=inbound_url,
        )  # fmt: skip
        self.server = EmulatorServer(self.emulator, host, port, self.sender)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def faults(self) -> Faults:
        return self.server.faults

    async def start(self) -> str:
        await self.sender.start()
        return await self.server.start()

    async def stop(self) -> None:
        await self.carrier.stop()
        await self.server.stop()
        await self.sender.close()
