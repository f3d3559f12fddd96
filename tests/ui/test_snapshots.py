"""Snapshot tests of the main screens (pytest-textual-snapshot): plain sync tests whose
app comes from a factory with fixed credentials, port, data and time zone.

Update after a deliberate UI change: `pytest tests/ui/test_snapshots.py --snapshot-update`,
then look at the SVGs in tests/ui/__snapshots__/ before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tui.app import MsgwatchApp
from tui.emulator.accounts import Credentials
from tui.screens.detail import DetailScreen
from tui.screens.triage import TriageScreen
from tui.store import EventKind

from .conftest import demo_options, event, main_screen, message_list, sid

# Fixed, so the header is the same in every run. A clash with another listener would show
# as "cannot listen" in the header and fail the comparison loudly, not flakily pass.
PORT = 47517
CREDENTIALS = Credentials(account_sid="AC" + "5" * 32, auth_token="0" * 32)
T0 = 1_767_323_045.0  # 2026-01-02 03:04:05 UTC: dates, not "today" times


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _app(tmp_path: Path) -> MsgwatchApp:
    return MsgwatchApp(demo_options(tmp_path, credentials=CREDENTIALS, demo_port=PORT))


def _rows(base: float) -> list:
    plan = [
        ("delivered", None, "+14155550100", "Your verification code is 482913."),
        ("undelivered", "30003", "+447400123456", "Order #1042 has shipped."),
        ("failed", "30007", "+14155550123", "Payment of $24.99 received."),
        ("sent", None, "+33612345678", "Reminder: appointment tomorrow at 09:00."),
        ("delivered", None, "+4915123456789", "Your driver is 3 minutes away 🚗"),
        ("undelivered", "30003", "+447812345678", "Flight BA117 is now boarding."),
        ("read", None, "whatsapp:+14155550199", "Weekly report: 98.7% delivered."),
        ("queued", None, "+5511912345678", "\x1b[31m[bold]hostile[/bold]\x1b[0m body"),
    ]
    out = []
    for n, (status, code, to, body) in enumerate(plan):
        if n == 5:
            continue  # its whole lifecycle follows
        extra = [("To", to), ("From", "+14155550111"), ("Body", body), ("NumSegments", "1")]
        if code:
            extra.append(("ErrorCode", code))
        out.append(event(sid(n + 1), status, base + n * 7, extra=extra))
    # A full lifecycle for the 30003 to +447812345678: queued, undelivered (twice: a
    # redelivery), then the "sent" that the carrier's network delayed: it must not move
    # the message back.
    extra = [
        ("To", "+447812345678"),
        ("From", "+14155550111"),
        ("Body", "Flight BA117 is now boarding."),
    ]
    undelivered = event(sid(6), "undelivered", base + 44, extra=[*extra, ("ErrorCode", "30003")])
    out += [
        event(sid(6), "queued", base + 35, extra=extra),
        undelivered,
        undelivered,
        event(sid(6), "sent", base + 45.5, extra=extra),
    ]
    out.append(
        event(
            sid(50),
            "received",
            base + 60,
            kind=EventKind.INBOUND,
            extra=[("From", "+14155550100"), ("To", "+14155550111"), ("Body", "STOP")],
        )
    )
    return out


async def _filled(pilot: Pilot[None], base: float = T0) -> None:
    app = pilot.app
    assert isinstance(app, MsgwatchApp)
    while len(app.screen_stack) < 2:
        await pilot.pause(0.05)
    for e in _rows(base):
        await app.session.store.ingest(e)
    listing = message_list(app)
    window = listing.window
    while window.total < 9 or sum(window.counts.values()) < 9 or listing._flash:
        await pilot.pause(0.05)
    main = main_screen(app)
    while not main.compose_ready.is_set():
        await pilot.pause(0.05)
    # The pane may have read its recent recipients before the rows above were in.
    main.compose_pane.set_recent(await app.session.store.recent_recipients())
    main.refresh_header()
    await pilot.pause()


def test_main_screen_80x24(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_filled)


def test_main_screen_160x40(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(160, 40), run_before=_filled)


def test_filter_error_inline(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _filled(pilot)
        await pilot.press("slash", *"status:deliverd", "enter")
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(100, 30), run_before=run_before)


def test_detail_timeline(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _filled(pilot)
        await pilot.press("down", "down", "down", "enter")  # the undelivered 30003
        app = pilot.app
        while not (isinstance(app.screen, DetailScreen) and app.screen.detail is not None):
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(120, 40), run_before=run_before)


def test_triage(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        # Recent, so they fall in the 24-hour window; whole minutes keep the trend stable.
        await _filled(pilot, base=float(int(time.time()) // 60 * 60 - 420))
        await pilot.press("t")
        app = pilot.app
        while not (isinstance(app.screen, TriageScreen) and app.screen.report is not None):
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(120, 36), run_before=run_before)


async def _typed(pilot: Pilot[None], to: str, body: str) -> None:
    await _filled(pilot)
    pane = main_screen(pilot.app).compose_pane
    await pilot.press("c", *to)
    pane.body_area.focus()
    pane.body_area.insert(body)
    await pilot.pause()


def test_compose_ucs2_warning(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _typed(pilot, "+447400123456", "It\u2019s \u201cready\u201d \u2014 see you soon 👋")

    assert snap_compare(_app(tmp_path), terminal_size=(140, 40), run_before=run_before)


def test_compose_schedule_needs_a_service(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _typed(pilot, "+14155550100", "Reminder: your appointment is tomorrow.")
        await pilot.press("ctrl+t", *"in 20m", "ctrl+s")
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(140, 40), run_before=run_before)


def test_compose_80x24_takes_the_width(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _typed(pilot, "whatsapp:+14155550199", "Hello from msgwatch")

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def test_presenter_mode(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _filled(pilot)
        await pilot.press("P")
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(120, 30), run_before=run_before)
