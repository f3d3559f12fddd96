"""`msgwatch emulator` as a user runs it: a subprocess that prints where it listens."""

import asyncio
import re
import signal
import socket
import sys

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client


async def start(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui", "emulator", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    banner = ""
    while "Ctrl-C" not in banner:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
        assert line, f"emulator exited early: {banner}"
        banner += line.decode()
    return proc, banner


async def test_standalone_emulator_serves_the_sdk_and_stops_cleanly() -> None:
    proc, banner = await start("--port", "0", "--speed", "1000", "--seed", "3")
    url = re.search(r"listening on (http://\S+)", banner)
    sid = re.search(r"account SID\s+(AC\w{32})", banner)
    token = re.search(r"auth token\s+(\w+)", banner)
    assert url and sid and token
    http = AsyncTwilioHttpClient()
    try:
        client = Client(sid.group(1), token.group(1), http_client=http)
        client.api.base_url = url.group(1)
        message = await client.messages.create_async(
            to="+14155550100", from_="+14155550111", body="hi"
        )
        assert message.status == "queued"
    finally:
        await http.close()
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    assert proc.returncode == 0


async def test_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "emulator", "--port", str(port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 1
    assert err.decode().strip() == f"msgwatch emulator: binding 127.0.0.1:{port} is already in use."


async def test_user_supplied_token_is_masked() -> None:
    token = "s3cr3t-token-value-9876"
    proc, banner = await start("--account-sid", "AC" + "1" * 32, "--auth-token", token)
    proc.send_signal(signal.SIGTERM)
    await proc.wait()
    assert token not in banner and "9876" in banner
