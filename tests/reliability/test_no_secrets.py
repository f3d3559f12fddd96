"""No secret survives a whole console session anywhere on disk.

tests/twilio/test_secrets.py checks the gateway's repr and log records; tests/services/
test_secrets.py checks the store and export lines of a lifecycle run. Here the console
itself runs, in demo mode (the local Twilio on a known, distinctive auth token) and in live
mode (an API key and secret, plus the auth token for webhook signatures, from the
environment, talking to a local Twilio through MSGWATCH_API_BASE). Each session sends from
the compose pane and the lifecycle, rides out rate limits, loses a create's answer,
receives signed and forged webhooks, opens a message's detail, exports from the export
screen and through `export_to_file` in both formats, and saves screenshots; the console's
log goes to a file, as `msgwatch console` sends it.

Then every byte the session left is searched: the database, its WAL (read while the
console still runs, before a checkpoint folds it away, and after), the log, the exports,
the screenshots. Not one may hold a secret, its HTTP Basic form, or any 12 consecutive
characters of one (a half-masked secret is a leaked secret).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.conftest import demo_options, main_screen, message_list, wait_for
from tui.app import MsgwatchApp
from tui.config import load_config
from tui.domain.masking import mask_secret
from tui.emulator.accounts import Credentials
from tui.emulator.faults import Operation
from tui.emulator.runner import LocalTwilio
from tui.emulator.scenarios import PRESETS
from tui.screens.detail import DetailScreen
from tui.screens.export import ExportScreen
from tui.services.console_session import SessionOptions
from tui.services.demo_traffic import SENDERS
from tui.services.export import ExportFormat
from tui.services.export_file import export_to_file
from tui.services.lifecycle import Draft

# Distinctive values, so a hit cannot be a coincidence (and none is a real credential).
ACCOUNT = "AC" + "5ec2e7ac" * 4
TOKEN = "c0ffee5ec2e7d3adb33f7a1e5f00d42b"
API_KEY = "SK" + "0badc0de" * 4
API_SECRET = "Zq7KsEcReT9xWm2VbN4pL8yT6rD1gH3j"
TEST_ACCOUNT = "AC" + "7e57ac75" * 4
TEST_TOKEN = "7e57" + "b0a710ad" * 3 + "0fa1"
SECRETS = (TOKEN, API_SECRET, TEST_TOKEN)
WINDOW = 12  # consecutive characters of a secret that count as leaking it
TO = "+447400123456"
SIZE = (140, 44)  # wide enough for the compose pane to be open from the start
DEADLINE = 15.0  # seconds a condition on the running console may take


def _needles() -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    for secret in SECRETS:
        for start in range(len(secret) - WINDOW + 1):
            found[secret[start : start + WINDOW].encode()] = f"part of {secret[:4]}..."
    for user, secret in ((ACCOUNT, TOKEN), (API_KEY, API_SECRET), (TEST_ACCOUNT, TEST_TOKEN)):
        basic = base64.b64encode(f"{user}:{secret}".encode())
        found[basic] = f"Basic auth of {user}"
    return found


NEEDLES = _needles()


def leaks(blob: bytes) -> list[str]:
    return sorted({what for needle, what in NEEDLES.items() if needle in blob})


def assert_no_secret_in(folder: Path, snapshots: dict[str, bytes]) -> list[str]:
    """Every file under `folder`, and the snapshots taken while the console ran, clean.
    Returns the names looked at."""
    looked: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        assert leaks(path.read_bytes()) == [], f"a secret in {path.name}"
        looked.append(path.name)
    for name, blob in snapshots.items():
        assert leaks(blob) == [], f"a secret in {name} (read while the console ran)"
    return looked


async def leave_every_trace(
    pilot: Pilot[None], app: MsgwatchApp, shots: Path, out: Path, db: Path
) -> dict[str, bytes]:
    """Screenshots, the export screen's file and every export, then the database as it is
    while the session still runs (its WAL included)."""
    await screenshot_detail(pilot, app, shots)
    await export_from_screen(pilot, app, out / "screen.jsonl")
    await exports(app, out)
    running = snapshot(db)
    assert any(name.startswith(f"{db.name}-wal") for name in running)
    return running


def snapshot(db: Path) -> dict[str, bytes]:
    """The database and its WAL and shared-memory files as they are now."""
    return {
        f"{path.name}@running": path.read_bytes()
        for path in sorted(db.parent.glob(db.name + "*"))
        if path.is_file()
    }


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go (Textual does not create the folder)."""
    folder = tmp_path / "shots"
    folder.mkdir()
    return folder


@pytest.fixture
def console_log(tmp_path: Path) -> Iterator[Path]:
    """The root logger to a file at INFO, as `msgwatch console` sets it up (without
    quieting the receiver: more lines, more chances to leak)."""
    path = tmp_path / "console.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)


def test_the_search_finds_a_leak_and_passes_a_masked_secret() -> None:
    # The search is only worth its silence if it would have spoken.
    assert leaks(f"token={TOKEN}".encode())
    assert leaks(f"...{API_SECRET[5:17]}...".encode())  # twelve characters of it
    assert leaks(b"Authorization: Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()))
    assert leaks(mask_secret(TOKEN).encode()) == []  # what the header shows: last 4 only


# -- driving the console -----------------------------------------------------------------


async def send_from_compose(pilot: Pilot[None], app: MsgwatchApp, body: str) -> None:
    await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the main screen")
    main = main_screen(app)
    await wait_for(pilot, main.compose_ready.is_set, "the compose pane")
    pane = main.compose_pane
    pane.query_one("#compose-to", Input).value = TO
    pane.body_area.focus()
    pane.body_area.insert(body)
    await pilot.press("ctrl+s")
    result = pane.query_one("#compose-result")
    await wait_for(pilot, lambda: "✓ SM" in str(result.render()), "the compose pane's SID")


async def export_from_screen(pilot: Pilot[None], app: MsgwatchApp, target: Path) -> None:
    """The export screen (E), JSON Lines, to `target`."""
    main = main_screen(app)
    main.message_list.focus()
    await pilot.press("E")
    await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), "the export screen")
    screen = app.screen
    screen.query_one("#export-path", Input).value = str(target)
    await pilot.press("ctrl+s")
    await wait_for(pilot, target.exists, "the export file")
    await wait_for(pilot, lambda: not screen.running, "the export to finish")
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is main, "back to the list")


async def screenshot_detail(pilot: Pilot[None], app: MsgwatchApp, folder: Path) -> None:
    """Open the newest message's detail view, raw parameters on, and save both screens."""
    main = main_screen(app)
    app.save_screenshot("main.svg", str(folder))
    main.message_list.focus()
    await pilot.press("home", "enter")

    def shown() -> bool:
        return isinstance(app.screen, DetailScreen) and app.screen.detail is not None

    await wait_for(pilot, shown, "the detail view")
    await pilot.pause()
    app.save_screenshot("detail.svg", str(folder))
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is main, "back to the list")


async def exports(app: MsgwatchApp, folder: Path) -> None:
    store = app.session.store
    assert store is not None
    for fmt in ExportFormat:
        assert await export_to_file(store, folder / f"all.{fmt.value}", fmt) > 0


def assert_session_was_busy(folder: Path, log: Path, *bodies: str) -> None:
    """The artefacts are real: the log saw the gateway's retries and the lost answer,
    the exports and screenshots hold the messages (so a clean search means something)."""
    logged = log.read_text(encoding="utf-8")
    assert "retry 1 of 3" in logged and "outcome unknown" in logged, logged[-2000:]
    exported = (folder / "exports" / "all.jsonl").read_text(encoding="utf-8")
    exported += (folder / "exports" / "all.csv").read_text(encoding="utf-8")
    exported += (folder / "exports" / "screen.jsonl").read_text(encoding="utf-8")
    for body in bodies:
        assert body in exported
    assert "msgwatch" in (folder / "shots" / "main.svg").read_text(encoding="utf-8")
    assert "Timeline" in (folder / "shots" / "detail.svg").read_text(encoding="utf-8")


# -- the sessions ------------------------------------------------------------------------


async def test_a_demo_session_leaves_the_auth_token_nowhere(
    tmp_path: Path, shots: Path, console_log: Path
) -> None:
    credentials = Credentials(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        api_keys={API_KEY: API_SECRET},
        test_account_sid=TEST_ACCOUNT,
        test_auth_token=TEST_TOKEN,
    )
    # A quick carrier: callbacks (and the odd reply) signed with the token. No demo traffic:
    # its sends would take the faults meant for this test's own.
    app = MsgwatchApp(demo_options(tmp_path, credentials=credentials, speed=20.0))
    out = tmp_path / "exports"
    async with app.run_test(size=SIZE) as pilot:
        await send_from_compose(pilot, app, "typed in the compose pane")
        session = app.session
        assert session.lifecycle is not None and session.local is not None
        assert session.server is not None
        local, lifecycle = session.local, session.lifecycle
        local.faults.refuse(Operation.CREATE, times=2)  # the gateway retries, and logs it
        assert (await lifecycle.send(Draft(to=TO, body="after two 429s"))).sid is not None
        local.faults.fail_after_commit(Operation.CREATE)  # outcome unknown, logged
        lost = await lifecycle.send(Draft(to=TO, body="answer lost"))
        assert lost.outcome_unknown
        store = session.store
        assert store is not None

        async def bound() -> bool:
            row = await store.get_message(id=lost.message_id)
            return row is not None and row.sid is not None

        # Its status callback carries the local id and binds the row; then a fetch.
        async with asyncio.timeout(DEADLINE):
            while not await bound():
                await pilot.pause(0.05)
        await lifecycle.refresh(lost.message_id)
        local.emulator.opt_out(TO, SENDERS[0])
        refused = await lifecycle.send(Draft(to=TO, from_=SENDERS[0], body="opted out"))
        assert refused.error is not None and refused.error.code == 21610
        # A callback signed with the wrong key: rejected, kept with its headers.
        url = f"{session.server.base_url}/message-status"
        params = [("MessageSid", "SM" + "f" * 32), ("MessageStatus", "delivered")]
        delivery = await local.sender.send("status", url, params, TEST_TOKEN)
        assert delivery is not None and delivery.status == 403

        await wait_for(pilot, lambda: message_list(app).window.total >= 4, "the rows")
        assert session.store is not None
        running = await leave_every_trace(pilot, app, shots, out, tmp_path / "console.db")
    looked = assert_no_secret_in(tmp_path, running)
    assert {"console.db", "console.log", "main.svg", "detail.svg", "all.csv"} <= set(looked)
    assert_session_was_busy(tmp_path, console_log, "typed in the compose pane", "answer lost")


async def test_a_live_session_with_an_api_key_leaves_no_secret(
    tmp_path: Path, shots: Path, console_log: Path
) -> None:
    credentials = Credentials(account_sid=ACCOUNT, auth_token=TOKEN, api_keys={API_KEY: API_SECRET})
    local = LocalTwilio(
        credentials=credentials,
        scenario=replace(PRESETS["happy"], reply=0.0),
        speed=50.0,
        seed=3,
    )
    base = await local.start()
    try:
        (tmp_path / "msgwatch.toml").write_text("")
        env = {
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_API_KEY": API_KEY,
            "TWILIO_API_SECRET": API_SECRET,
            "TWILIO_AUTH_TOKEN": TOKEN,  # for webhook signatures only
            "MSGWATCH_API_BASE": base,
            "MSGWATCH_PORT": "0",
            "MSGWATCH_FROM": SENDERS[0],
        }
        config = load_config(env=env, home=tmp_path, config_path=tmp_path / "msgwatch.toml")
        assert config.credentials is not None and config.credentials.uses_api_key
        shown = "\n".join(config.describe()) + repr(config) + repr(config.credentials)
        assert leaks(shown.encode()) == [], "--show-config would print a secret"

        app = MsgwatchApp(SessionOptions(config=config, db_path=tmp_path / "live.db"))
        out = tmp_path / "exports"
        async with app.run_test(size=SIZE) as pilot:
            await send_from_compose(pilot, app, "live, with an API key")
            session = app.session
            assert session.lifecycle is not None and session.server is not None
            lifecycle = session.lifecycle
            local.faults.refuse(Operation.CREATE, times=2)
            assert (await lifecycle.send(Draft(to=TO, body="after two 429s"))).sid is not None
            local.faults.fail_after_commit(Operation.CREATE)
            assert (await lifecycle.send(Draft(to=TO, body="answer lost"))).outcome_unknown
            # Callbacks signed with the auth token (accepted) and with a wrong one.
            url = f"{session.server.base_url}/message-status"
            sid = next(m.sid for m in local.emulator.book if m.body == "after two 429s")
            params = [("MessageSid", sid), ("MessageStatus", "delivered"), ("To", TO)]
            accepted = await local.sender.send("status", url, params, TOKEN)
            assert accepted is not None and accepted.status == 200
            rejected = await local.sender.send("status", url, params, API_SECRET)
            assert rejected is not None and rejected.status == 403

            await wait_for(pilot, lambda: message_list(app).window.total >= 3, "the rows")
            running = await leave_every_trace(pilot, app, shots, out, tmp_path / "live.db")
    finally:
        await local.stop()
    looked = assert_no_secret_in(tmp_path, running)
    assert {"live.db", "console.log", "main.svg", "detail.svg", "all.csv"} <= set(looked)
    assert_session_was_busy(tmp_path, console_log, "live, with an API key", "answer lost")
