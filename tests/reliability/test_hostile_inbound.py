"""Strangers' text through the whole console: hostile bodies sent out through the local
Twilio's API, received as signed inbound webhooks (exactly as the emulator's carrier posts
replies), and forged at the receiver without a signature, then read on every screen that
shows them: the list, each message's detail view (body, fields, raw parameters) and the
rejected-callbacks screen.

tests/ui/test_console_safety.py ingests events straight into the store and opens one
detail view. Here the text takes the real roads in (HTTP to the API, HTTP to the
receiver), the corpus is different (cursor movement, OSC 52 with either terminator, OSC 8
links, Textual action markup, C1 controls, a 1600-character line hiding an escape at its
end), and every message is opened. For each: the app keeps running, no painted strip holds
a control character, a bidi control or a zero-width character, no letter carries more
than three combining marks, markup shows literally, and the store keeps the text exactly
as it came (making it safe is the screen's job, not the database's).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from textual.containers import VerticalScroll
from textual.pilot import Pilot

from tests.ui.conftest import demo_options, main_screen, message_list, screen_strips, wait_for
from tui.app import MsgwatchApp
from tui.emulator.model import API_VERSION
from tui.screens.detail import DetailScreen
from tui.screens.rejected import RejectedScreen
from tui.server.receiver import Receiver, ReceiverConfig
from tui.server.request_log import LineFormatter
from tui.server.runner import ReceiverServer
from tui.server.verify import SignatureConfig
from tui.services.demo_traffic import SENDERS
from tui.services.lifecycle import Draft
from tui.store import Store, StoredMessage
from tui.widgets.safe_text import MAX_COMBINING

SIZE = (120, 40)
STRANGER = "+447400123456"
OURS = SENDERS[0]


def _long_line() -> str:
    # Exactly Twilio's 1600-character limit, one line, with an escape near the end where
    # a preview would have cut it off already and only the detail view reaches it.
    tail = "\x1b[8mHIDDEN"
    return ("0123456789abcdef" * 100)[: 1600 - len(tail)] + tail


HOSTILE: dict[str, str] = {
    "csi-cursor": "\x1b[2K\x1b[1A\x1b[38;2;255;0;0mFAKE: payment failed\x1b[0m",
    "osc52-bel": "\x1b]52;c;cm0gLXJmIH4vKgo=\x07 copy this",
    "osc52-st": "\x1b]52;p;ZWNobyBwd25lZAo=\x1b\\ primary selection",
    "osc8-link": "\x1b]8;;https://evil.example/\x1b\\tap to verify\x1b]8;;\x1b\\",
    # "[/]" closes nothing: parsed as markup it would raise, not just mis-style.
    "markup": "[bold red]x[/] [@click=app.quit]tap[/] [link=https://evil.example]login[/link]",
    "bidi": "refund \u202e0001$\u202c approved \u2067isolate\u2069 \u200fmark",
    "zero-width": "ad\u200bmin\u200c pa\u200dss\u2060word\ufeff \u00adsoft",
    "long-line": _long_line(),
    "zalgo": "Z" + "\u0336" * 50 + "algo",
    "c1": "\x9b31mC1 CSI\x9b0m \x9d0;title\x9c \x85nel \x90dcs\x9c",
}
assert len(HOSTILE["long-line"]) == 1600 and "\n" not in HOSTILE["long-line"]

# What must never reach the terminal: C0 and C1 controls (ESC, BEL, the one-byte CSI
# 0x9b...), DEL, bidi controls and zero-width characters.
FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]"
)
STACKED = re.compile(f"[\u0300-\u036f]{{{MAX_COMBINING + 1},}}")


def assert_inert(app: MsgwatchApp, where: str) -> str:
    """Every painted strip of the current screen is plain, safe text; returns it."""
    lines: list[str] = []
    for number, strip in enumerate(screen_strips(app)):
        for segment in strip:
            assert segment.control is None, f"{where}: control segment on line {number}"
        text = strip.text
        found = FORBIDDEN.search(text)
        assert found is None, f"{where}, line {number}: {found.group()!r} in {text!r}"
        assert STACKED.search(text) is None, f"{where}, line {number}: stacked marks"
        lines.append(text)
    assert app.is_running, f"{where}: the app stopped"
    return "\n".join(lines)


async def send_inbound(app: MsgwatchApp, number: int, body: str) -> None:
    """A signed inbound webhook to the console's receiver, as the carrier sends replies:
    the hostile text as Body and as WhatsApp's ProfileName, which only the raw parameters
    panel shows."""
    session = app.session
    assert session.local is not None and session.server is not None
    creds = session.local.credentials
    sid = f"SM{0xBAD000 + number:032x}"
    params = [
        ("AccountSid", creds.account_sid),
        ("ApiVersion", API_VERSION),
        ("Body", body),
        ("From", STRANGER),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("ProfileName", body),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("To", OURS),
    ]
    url = f"{session.server.base_url}/incoming"
    delivery = await session.local.sender.send("inbound", url, params, creds.auth_token)
    assert delivery is not None and delivery.status == 200, delivery


async def forge_inbound(app: MsgwatchApp) -> str:
    """An unsigned request from anyone on the network: rejected, yet kept and shown on the
    rejected-callbacks screen. Returns the hostile MessageSid it claimed."""
    session = app.session
    assert session.server is not None
    claimed = HOSTILE["markup"] + HOSTILE["osc52-bel"] + HOSTILE["bidi"]
    form = {"MessageSid": claimed, "Body": HOSTILE["csi-cursor"], "From": STRANGER}
    url = f"{session.server.base_url}/incoming"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, params={"lid": HOSTILE["c1"]}, data=form) as response,
    ):
        assert response.status == 403
    return claimed


async def read_all(
    pilot: Pilot[None], app: MsgwatchApp, scroller: VerticalScroll, where: str
) -> str:
    """Page `scroller` from top to bottom, checking each painted screen: a long body
    pushes the raw parameters panel below the first screenful."""
    views: list[str] = []
    while True:
        views.append(assert_inert(app, f"{where} at line {scroller.scroll_y:.0f}"))
        if scroller.scroll_y >= scroller.max_scroll_y:
            return "\n".join(views)
        target = min(scroller.max_scroll_y, scroller.scroll_y + scroller.size.height - 1)
        scroller.scroll_to(y=target, animate=False, immediate=True)
        await wait_for(pilot, lambda t=target: scroller.scroll_y >= t, f"{where}: scrolled")
        await pilot.pause()


async def open_each(
    pilot: Pilot[None],
    app: MsgwatchApp,
    ids: list[int],
    check: Callable[[StoredMessage, str], None],
) -> set[int]:
    """Open the newest row's detail view from the list (enter), then show each message of
    `ids` in it in turn; `check` gets the message and everything the view painted. Back
    to the list at the end. Returns the ids shown.

    Re-pointing one detail view (it reloads by `message_id`, as it does every second)
    instead of a push and pop per message keeps 20 messages within the time budget on a
    small machine: mounting a screen costs about a second there."""
    main = main_screen(app)
    await pilot.press("home")
    await wait_for(pilot, lambda: message_list(app).cursor == 0, "the newest row")
    await pilot.press("enter")

    def showing(message_id: int | None) -> bool:
        screen = app.screen
        if not isinstance(screen, DetailScreen) or screen.detail is None:
            return False
        return message_id is None or screen.detail.message.id == message_id

    await wait_for(pilot, lambda: showing(None), "the detail view")
    screen = app.screen
    assert isinstance(screen, DetailScreen)
    scroller = screen.query_one("#detail-body", VerticalScroll)
    shown: set[int] = set()
    for message_id in ids:
        if not showing(message_id):
            screen.message_id = message_id
            screen.load()
            await wait_for(pilot, lambda m=message_id: showing(m), f"message #{message_id}")
        scroller.scroll_home(animate=False, immediate=True)
        await wait_for(pilot, lambda: scroller.scroll_y == 0, "the top of the detail")
        await pilot.pause()
        assert screen.detail is not None
        message = screen.detail.message
        check(message, await read_all(pilot, app, scroller, f"detail of #{message_id}"))
        shown.add(message.id)
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is main, "back to the list")
    return shown


async def test_hostile_text_in_and_out_is_inert_on_every_screen(tmp_path: Path) -> None:
    # The carrier stands still (speed 0.001): no replies of its own join the list.
    app = MsgwatchApp(demo_options(tmp_path, speed=0.001))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the main screen")
        session = app.session
        assert session.lifecycle is not None and session.local is not None
        sent: dict[int, str] = {}
        for name, body in HOSTILE.items():
            result = await session.lifecycle.send(Draft(to=STRANGER, from_=OURS, body=body))
            assert result.sid is not None, (name, result.error)
            sent[result.message_id] = body
        for number, body in enumerate(HOSTILE.values()):
            await send_inbound(app, number, body)
        claimed = await forge_inbound(app)

        listing = message_list(app)
        total = 2 * len(HOSTILE)
        await wait_for(pilot, lambda: listing.window.total == total, "every hostile row")
        await pilot.pause()
        listed = assert_inert(app, "the list")
        assert "[bold red]x[/]" in listed  # literally, in the list's body column

        # The text is kept exactly: by the local Twilio, and in the store both ways.
        book = {m.sid: m.body for m in session.local.emulator.book}
        assert sorted(book.values()) == sorted(HOSTILE.values())
        assert session.store is not None
        received: list[str] = []
        for message_id in range(1, total + 1):
            row = await session.store.get_message(id=message_id)
            assert row is not None and row.body is not None
            if message_id in sent:
                assert row.body == sent[message_id] == book[row.sid or ""]
            else:
                assert row.direction == "inbound"
                received.append(row.body)
        assert sorted(received) == sorted(HOSTILE.values())

        def check(message: StoredMessage, shown: str) -> None:
            assert message.body in HOSTILE.values()
            if message.body == HOSTILE["markup"]:
                # Markup as text: the tags are there to read, and clicking is inert.
                assert "[bold red]x[/]" in shown and "[@click=app.quit]tap[/]" in shown
            if message.direction == "inbound":
                # The raw parameters panel shows the inbound event, ProfileName too.
                assert "ProfileName" in shown, shown
            if message.body == HOSTILE["long-line"]:
                assert "\u241b[8mHIDDEN" in shown  # all 1600 characters, the ESC made visible
            if message.body == HOSTILE["zalgo"]:
                assert "Z" + "\u0336" * MAX_COMBINING + "algo" in shown  # trimmed, kept

        newest_first = list(range(total, 0, -1))
        assert await open_each(pilot, app, newest_first, check) == set(newest_first)

        # A forged request needs no signature to reach the rejected-callbacks screen.
        await pilot.press("r")

        def rejected_shown() -> bool:
            screen = app.screen
            return isinstance(screen, RejectedScreen) and bool(screen.groups)

        await wait_for(pilot, rejected_shown, "the rejected callbacks")
        await pilot.pause()
        rejected = assert_inert(app, "rejected callbacks")
        assert "[bold red]x[/]" in rejected  # the forged MessageSid, as text
        screen = app.screen
        assert isinstance(screen, RejectedScreen)
        assert screen.groups[0].example_sid == claimed  # stored as claimed, shown safely
        assert app.is_running and app.return_code is None


async def test_a_forged_webhook_cannot_write_controls_into_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store = await Store.open(tmp_path / "receiver.db")
    server = ReceiverServer(Receiver(store, ReceiverConfig(SignatureConfig("f" * 32))), port=0)
    base = await server.start()
    claimed = "SM1" + HOSTILE["osc52-bel"] + "\n2026-01-01 00:00:00 INFO msgwatch.receiver ok"
    try:
        async with aiohttp.ClientSession() as http:
            for path, form in [
                ("/message-status", {"MessageSid": claimed, "MessageStatus": "delivered"}),
                ("/incoming", {"MessageSid": claimed, "Body": HOSTILE["csi-cursor"]}),
            ]:
                async with http.post(f"{base}{path}", data=form) as response:
                    assert response.status == 403  # no signature: rejected, and logged
    finally:
        await server.stop()
        await store.close()
    # Formatted as `msgwatch serve` formats its stderr lines (a batch of lines per record).
    formatter = LineFormatter()
    lines = [
        line
        for r in caplog.records
        if r.name.startswith("msgwatch")
        for line in formatter.format(r).split("\n")
    ]
    assert len([line for line in lines if "rejected" in line]) == 2
    for line in lines:
        found = FORBIDDEN.search(line)
        assert found is None, f"{found.group()!r} in the log line {line!r}"
