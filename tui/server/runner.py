"""Serving the receiver on a port, in-process (console) or headless (`msgwatch serve`).

Binding anything but loopback requires signature validation: an unvalidated receiver
reachable from the network would let anyone write message states into the database.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from .receiver import Receiver


class UnsafeBindError(ValueError):
    """Validation off on a non-loopback address."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ReceiverServer:
    def __init__(self, receiver: Receiver, host: str = "127.0.0.1", port: int = 1337) -> None:
        if not receiver.config.signature.validating and not is_loopback(host):
            raise UnsafeBindError(
                f"Refusing to listen on {host} without signature validation: set "
                "TWILIO_AUTH_TOKEN, or bind 127.0.0.1."
            )
        self.receiver = receiver
        self.host = host
        self.port = port
        self._runner: web.ServerRunner | None = None

    async def start(self) -> str:
        self._runner = web.ServerRunner(self.receiver.build_server())
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        self.port = int(self._runner.addresses[0][1])
        return self.base_url

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.receiver.close()
