"""`msgwatch serve` with a full Twilio account configured also reconciles: a message whose
callbacks never came is fetched and reaches its real final status."""

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from tests.emulator.test_cli import start
from tui.domain.facts import facts_from_resource
from tui.domain.status import MessageStatus
from tui.store import EventKind, IncomingEvent, Store


async def test_serve_fetches_what_lost_callbacks_left_in_flight(tmp_path: Path) -> None:
    emulator, banner = await start("--port", "0", "--speed", "1000", "--seed", "5")
    serve = None
    try:
        exported = re.search(r"export (.+)", banner)
        assert exported, banner
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "MSGWATCH_"))}
        env.update(pair.split("=", 1) for pair in exported.group(1).split())
        env.update(HOME=str(tmp_path), MSGWATCH_STUCK_AFTER="0.1")
        # A message sent with no StatusCallback: no callback will ever come for it.
        http = AsyncTwilioHttpClient()
        try:
            client = Client(env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"], http_client=http)
            client.api.base_url = env["MSGWATCH_API_BASE"]
            created = await client.messages.create_async(
                to="+14155550100", from_="+14155550111", body="no callbacks"
            )
        finally:
            await http.close()
        db = tmp_path / "serve.db"
        store = await Store.open(db)
        try:
            resource = {"sid": created.sid, "status": "queued", "to": "+14155550100"}
            await store.ingest(
                IncomingEvent(EventKind.CREATE, facts_from_resource(resource), (), time.time())
            )
        finally:
            await store.close()

        serve = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "serve", "--port", "0", "--db", str(db),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        status = None
        async with asyncio.timeout(30):
            while status not in {
                MessageStatus.DELIVERED,
                MessageStatus.UNDELIVERED,
                MessageStatus.FAILED,
            }:
                await asyncio.sleep(0.2)  # waiting on another process's writes
                store = await Store.open(db)
                try:
                    stored = await store.get_message(sid=created.sid)
                finally:
                    await store.close()
                status = stored.status if stored else None
        assert status is not None
    finally:
        if serve is not None:
            serve.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(serve.communicate(), 20)
            assert "reconciliation on" in err.decode()
            assert env["TWILIO_AUTH_TOKEN"] not in err.decode()
        emulator.send_signal(signal.SIGTERM)
        await emulator.wait()
