"""Presenter mode: numbers and bodies masked on screen and in exports made while it is on,
the account hidden, badges enlarged; off again shows everything."""

from __future__ import annotations

import json

from textual.widgets import Input

from tui.app import MsgwatchApp
from tui.screens.export import ExportScreen
from tui.services.lifecycle import Draft

from .conftest import demo_options, message_list, screen_text, wait_for

TO = "+447400123456"
BODY = "meet me at the usual place"


async def test_presenter_mode_masks_the_screen_and_exports(tmp_path) -> None:
    app = MsgwatchApp(demo_options(tmp_path))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the main screen")
        lifecycle = app.session.lifecycle
        await lifecycle.send(Draft(to=TO, from_="+14155550111", body=BODY))
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 1, "the row")
        await wait_for(pilot, lambda: TO in screen_text(app), "the number shown")
        account = app.session.local.credentials.account_sid
        assert account[:4] in screen_text(app)

        await pilot.press("P")
        await wait_for(pilot, lambda: TO not in screen_text(app), "the number masked")
        text = screen_text(app)
        assert "+44 ••••56" in text and "PRESENTER" in text
        assert BODY[:12] not in text and "hidden: 26 characters" in text
        assert f"{account[:4]}…" not in text  # the account is hidden
        assert listing.window.row(0).to_addr == TO  # the store is untouched

        target = tmp_path / "shown.jsonl"
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), "the export")
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists, "the export file")
        exported = target.read_text()
        assert TO not in exported and BODY not in exported and account not in exported
        record = json.loads(exported.splitlines()[0])
        assert record["to"] == "+44 ••••••••56"
        await pilot.press("escape")

        await pilot.press("P")
        await wait_for(pilot, lambda: TO in screen_text(app), "the number back")
