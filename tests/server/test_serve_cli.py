"""`msgwatch serve` as a user runs it."""

import asyncio
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from tui.domain.signature import compute_signature

TOKEN = "f00dfeedf00dfeedf00dfeed12345678"


async def test_serve_receives_commits_and_stops(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui", "serve", "--port", "0", "--db", str(db),
        "--public-url", "https://example.ngrok.app",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    banner = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
    url = re.search(r"Receiving on (http://\S+?);", banner)
    assert url, banner
    params = [("MessageSid", "SM" + "e" * 32), ("MessageStatus", "delivered")]
    signature = compute_signature("https://example.ngrok.app/message-status", params, TOKEN)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url.group(1) + "/message-status",
            data=urlencode(params),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ) as resp,
    ):
        assert resp.status == 200
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0
    everything = banner + out.decode() + err.decode()
    assert TOKEN not in everything and TOKEN[-4:] in everything  # masked, never printed
    assert "sid=SMeeee" in err.decode() and "verdict=valid" in err.decode()  # a log line
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM messages").fetchall() == [("delivered",)]


async def test_serve_refuses_without_a_token_or_unsafely(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TWILIO_AUTH_TOKEN"}
    for extra, expected in (
        ([], "set TWILIO_AUTH_TOKEN"),
        (["--no-validate", "--host", "0.0.0.0"], "Refusing to listen on 0.0.0.0"),
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "serve", "--port", "0", "--db", str(tmp_path / "x.db"),
            *extra, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode != 0 and expected in err.decode()
