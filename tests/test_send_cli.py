"""`msgwatch send --wait` against `msgwatch emulator`, typed as the banner says."""

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from tests.emulator.test_cli import start


async def send(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui", "send", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("scenario", "exit_code", "final"),
    [
        ("delivered = 1.0", 0, "delivered"),
        ("delivered = 0.0\nfailed_share = 0.0", 1, "undelivered"),
    ],
)
async def test_send_wait_follows_the_message_to_its_final_status(
    tmp_path: Path, scenario: str, exit_code: int, final: str
) -> None:
    (tmp_path / "s.toml").write_text(scenario + "\n")
    proc, banner = await start(
        "--port", "0", "--speed", "50", "--scenario", str(tmp_path / "s.toml")
    )
    try:
        exported = re.search(r"export (.+)", banner)
        assert exported, banner  # the banner tells a newcomer what to type
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "MSGWATCH_"))}
        env.update(pair.split("=", 1) for pair in exported.group(1).split())
        env["MSGWATCH_DB"] = str(tmp_path / "m.db")
        env["HOME"] = str(tmp_path)  # no Twilio CLI profile of the machine's user
        code, out, err = await send(
            env, "--to", "+14155550100", "--from", "+14155550111", "--body", "Hello", "--wait"
        )
        assert code == exit_code, (out, err)
        lines = out.splitlines()
        assert re.fullmatch(r"SM[0-9a-f]{32} queued", lines[0])
        assert lines[-1].split()[1] == final, lines
        if final == "undelivered":
            assert re.search(r"\b300\d\d\b", lines[-1])  # the error code, explained
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


async def test_a_bad_number_is_a_usage_error_and_sends_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "MSGWATCH_"))}
    env.update(HOME=str(tmp_path), MSGWATCH_DB=str(tmp_path / "m.db"))
    code, out, err = await send(env, "--to", "+1415", "--body", "x")
    assert code == 2 and out == ""
    assert err.startswith("msgwatch send: To:") and err.count("\n") == 1
