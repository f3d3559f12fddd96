"""A receiver on a real loopback port over a real SQLite file, and a client that signs."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tui.domain.signature import compute_signature
from tui.server.receiver import Receiver, ReceiverConfig
from tui.server.runner import ReceiverServer
from tui.server.verify import SignatureConfig
from tui.store import Store

TOKEN = "12345"  # the Twilio docs' example token
PUBLIC = "https://abc123.ngrok.app"  # what Twilio calls; not what the server binds


def sid(n: int) -> str:
    return f"SM{n:032x}"


@dataclass
class Running:
    store: Store
    receiver: Receiver
    server: ReceiverServer
    http: aiohttp.ClientSession

    async def post(
        self,
        path: str,
        params: Sequence[tuple[str, str]],
        *,
        sign: bool = True,
        signed_url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        h = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        if sign:
            url = signed_url or PUBLIC + path
            h["X-Twilio-Signature"] = compute_signature(url, params, TOKEN)
        async with self.http.post(
            self.server.base_url + path, data=urlencode(list(params)), headers=h
        ) as resp:
            await resp.read()
            return resp

    async def callback(self, message_sid: str, status: str, *extra: tuple[str, str], **kw):  # type: ignore[no-untyped-def]
        params = [
            ("AccountSid", "AC" + "0" * 32),
            ("MessageSid", message_sid),
            ("SmsSid", message_sid),
            ("MessageStatus", status),
            ("SmsStatus", status),
            ("To", "+14155550100"),
            ("From", "+14155550111"),
            ("ApiVersion", "2010-04-01"),
            *extra,
        ]
        return await self.post("/message-status", params, **kw)


async def start(tmp_path: Path, **config: object) -> Running:
    store = await Store.open(tmp_path / "receiver.db")
    signature = SignatureConfig(auth_token=TOKEN, public_url=PUBLIC)
    settings: dict[str, object] = {"signature": signature, **config}
    receiver = Receiver(store, ReceiverConfig(**settings))  # type: ignore[arg-type]
    server = ReceiverServer(receiver, port=0)
    await server.start()
    return Running(store, receiver, server, aiohttp.ClientSession())


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    r = await start(tmp_path)
    try:
        yield r
    finally:
        await r.http.close()
        await r.server.stop()
        await r.store.close()
