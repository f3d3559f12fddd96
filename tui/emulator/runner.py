"""Running the emulator in-process: an aiohttp AppRunner on a loopback port.

Used by the console in demo mode, by tests (port 0, the real port read back) and by
`msgwatch emulator`. Never `web.run_app`: the emulator shares its loop with the UI.
"""

from __future__ import annotations

from aiohttp import web

from .api import build_app
from .emulator import Emulator


class EmulatorServer:
    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Start listening; returns the base URL to give the SDK."""
        app = build_app(self.emulator)
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
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
