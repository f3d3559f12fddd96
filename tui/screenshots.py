"""`python -m tui.screenshots` (`make screenshots`): the README's pictures, generated.

Drives the console headlessly in demo mode (seeded carrier and traffic, the chaos-free
`flaky-carrier` scenario so failures exist to triage) and saves SVGs into screenshots/:
the live list, a failed message's timeline, triage, compose with a UCS-2 warning, and
presenter mode.
Regenerate whenever the UI changes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tui.config import load_config
from tui.domain.status import PROBLEM
from tui.emulator.accounts import Credentials

# Fixed, so the pictures show the same account and URL each time they are made.
CREDENTIALS = Credentials(account_sid="AC" + "d3m0" * 8, auth_token="0" * 32)
PORT = 47518
CLOCK_START = datetime(2026, 11, 23, 9, 41, tzinfo=UTC)
PATIENCE = 60.0


async def _until(pause: Callable[[], object], condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        await pause()  # type: ignore[misc]


async def make(out: Path, home: Path, size: tuple[int, int]) -> list[Path]:
    """Run the scripted session with its database and config under `home`."""
    from tui.app import MsgwatchApp
    from tui.screens.detail import DetailScreen
    from tui.screens.main import MainScreen
    from tui.screens.triage import TriageScreen
    from tui.services.console_session import SessionOptions

    written: list[Path] = []
    config = load_config(env={}, home=home, config_path=home / "msgwatch.toml")
    options = SessionOptions(
        config=config,
        demo=True,
        scenario="flaky-carrier",
        seed=11,
        speed=4.0,
        db_path=home / "demo.db",
        credentials=CREDENTIALS,
        demo_port=PORT,
    )
    app = MsgwatchApp(options)
    async with app.run_test(size=size) as pilot:

        async def pause() -> None:
            await pilot.pause(0.1)

        await _until(pause, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        listing = main.message_list
        window = listing.window

        def problem_row() -> int | None:
            for i in range(min(window.total, 40)):
                row = window.row(i)
                if row is not None and row.status in PROBLEM and row.error_code:
                    return i
            return None

        await _until(pause, lambda: window.total >= 30 and problem_row() is not None, "traffic")
        await pilot.pause(1.2)
        written.append(Path(app.save_screenshot("main.svg", str(out))))
        position = problem_row()
        assert position is not None
        for _ in range(position):
            await pilot.press("down")
        await pilot.press("enter")
        await _until(
            pause,
            lambda: isinstance(app.screen, DetailScreen) and app.screen.detail is not None,
            "the detail view",
        )
        await pilot.pause(0.3)
        written.append(Path(app.save_screenshot("detail.svg", str(out))))
        await pilot.press("escape", "t")
        await _until(
            pause,
            lambda: isinstance(app.screen, TriageScreen) and app.screen.report is not None,
            "triage",
        )
        await pilot.pause(0.3)
        written.append(Path(app.save_screenshot("triage.svg", str(out))))

        # Compose, with a body whose curly quotes, dash and emoji force UCS-2.
        await pilot.press("escape")
        await _until(pause, lambda: app.screen is main, "the main screen again")
        await _until(pause, main.compose_ready.is_set, "the compose pane")
        await pilot.press("c", *"+447400123456")
        pane = main.compose_pane
        pane.body_area.focus()
        pane.body_area.insert("Your order \u201cBlue Mug\u201d \u2014 it\u2019s on its way 📦")
        await pilot.pause(0.3)
        written.append(Path(app.save_screenshot("compose.svg", str(out))))

        # Presenter mode, as an audience sees it.
        await pilot.press("escape", "z", "P")
        await pilot.pause(0.3)
        app.clear_notifications()
        await pilot.pause(0.3)
        written.append(Path(app.save_screenshot("presenter.svg", str(out))))
    return written


def main() -> None:
    import time_machine  # a dev dependency: screenshots are made from a checkout

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--width", type=int, default=120)
    parser.add_argument("--height", type=int, default=32)
    args = parser.parse_args()
    from tui.store.writer_process import ensure_forkserver

    ensure_forkserver()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        (home / "msgwatch.toml").write_text("")
        # The same wall clock every run (it ticks from this start, so durations are real),
        # shown in UTC: the pictures change only when the UI does.
        os.environ["TZ"] = "UTC"
        time.tzset()
        with time_machine.travel(CLOCK_START, tick=True):
            written = asyncio.run(make(args.out, home, (args.width, args.height)))
        for path in written:
            print(path)


if __name__ == "__main__":
    main()
