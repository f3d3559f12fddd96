"""Strangers' text on screen: hostile bodies render as inert text at 80x24 and 200x50,
in the list and in the detail view."""

from __future__ import annotations

import time

import pytest

from tui.store import EventKind
from tui.widgets.safe_text import sanitize

from .conftest import event, message_list, screen_strips, screen_text, sid, wait_for

HOSTILE = [
    "\x1b[31mred\x1b[0m and \x1b[2J\x1b[H cleared",
    "\x1b]52;c;aGVsbG8gd29ybGQ=\x07 clipboard write",
    "\x1b]0;pwned title\x07 title",
    "[bold red]not bold[/] [link=http://x]link[/link]",
    "abc\u202edcba RTL override \u2066isolate\u2069",
    "zero\u200bwidth\u200djoin\ufeffbom",
    "e" + "\u0301" * 40 + " zalgo",
    "x" * 1600,
    "tab\there\nnewline\rreturn\x00nul\x7fdel\x9bcsi",
    "🚗 emoji 中文 wide",
]


def _events() -> list:
    now = float(int(time.time()) - 60)
    return [
        event(
            sid(500 + n),
            "received",
            now + n,
            kind=EventKind.INBOUND,
            extra=[("From", "+14155550100"), ("To", "+14155550111"), ("Body", body)],
        )
        for n, body in enumerate(HOSTILE)
    ]


def test_sanitize_leaves_nothing_a_terminal_obeys() -> None:
    for body in HOSTILE:
        safe = sanitize(body)
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in safe), repr(safe)
        assert "\u202e" not in safe and "\u200b" not in safe and "\u2066" not in safe
    assert sanitize("[bold]x[/]") == "[bold]x[/]"  # markup stays literal text


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_hostile_bodies_render_as_text(make_app, size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        for e in _events():
            await app.session.store.ingest(e)
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == len(HOSTILE), "every body")
        await pilot.pause()
        for strip in screen_strips(app):
            for segment in strip:
                assert "\x1b" not in segment.text and "\x07" not in segment.text
                assert segment.control is None
        text = screen_text(app)
        assert "[bold red]not bold[/]" in text  # literally, not as style
        assert "␛[31mred" in text
        assert all(len(line) <= size[0] for line in text.splitlines())
        # The detail view of the worst one, too.
        await pilot.press("end")  # the oldest: the ANSI colour body
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "detail", None) is not None, "detail")
        await pilot.pause()
        for strip in screen_strips(app):
            for segment in strip:
                assert "\x1b" not in segment.text
        assert app.is_running
