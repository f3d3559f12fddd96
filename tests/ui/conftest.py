"""The console under test: demo mode embedded (store in tmp_path, emulator and receiver on
free loopback ports), driven by Pilot; helpers that wait for conditions, never for time."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.strip import Strip

from tui.app import MsgwatchApp
from tui.config import load_config
from tui.domain.facts import facts_from_callback
from tui.screens.main import MainScreen
from tui.services.console_session import SessionOptions
from tui.store import EventKind, IncomingEvent, SignatureVerdict
from tui.widgets.message_list import MessageList

# Long enough for a loaded CI machine; conditions usually hold within a few frames.
PATIENCE = 20.0


def demo_options(tmp_path: Path, **changes: object) -> SessionOptions:
    (tmp_path / "msgwatch.toml").write_text("")
    config = load_config(env={}, home=tmp_path, config_path=tmp_path / "msgwatch.toml")
    options = {
        "config": config,
        "demo": True,
        "db_path": tmp_path / "console.db",
        "seed": 7,
        "speed": 10.0,
        "traffic": False,
    }
    options.update(changes)
    return SessionOptions(**options)  # type: ignore[arg-type]


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., MsgwatchApp]:
    def make(**changes: object) -> MsgwatchApp:
        return MsgwatchApp(demo_options(tmp_path, **changes))

    return make


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until `condition()` holds (checked every frame), or fail."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def main_screen(app: MsgwatchApp) -> MainScreen:
    screen = app.screen_stack[1] if len(app.screen_stack) > 1 else app.screen
    assert isinstance(screen, MainScreen), app.screen_stack
    return screen


def message_list(app: MsgwatchApp) -> MessageList:
    return main_screen(app).message_list


def screen_strips(app: MsgwatchApp) -> list[Strip]:
    # Textual has no public "screen as text"; the compositor's strips are what it paints.
    return list(app.screen._compositor.render_strips())


def screen_text(app: MsgwatchApp) -> str:
    """Everything on the screen as plain text (what a person would read)."""
    return "\n".join(strip.text for strip in screen_strips(app))


def event(
    sid: str,
    status: str,
    at: float,
    *,
    extra: Sequence[tuple[str, str]] = (),
    kind: EventKind = EventKind.CALLBACK,
) -> IncomingEvent:
    params = [("MessageSid", sid), ("MessageStatus", status), *extra]
    if kind is EventKind.INBOUND:
        params = [("MessageSid", sid), ("SmsStatus", status), *extra]
    return IncomingEvent(
        kind=kind,
        facts=facts_from_callback(params),
        params=tuple(params),
        received_at=at,
        signature=SignatureVerdict.VALID,
    )


def sid(n: int) -> str:
    return f"SM{n:032x}"
