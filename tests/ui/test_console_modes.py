"""Live mode without the callback port (several viewers, one receiver), and start-up
failures that must end in one sentence, not a traceback."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tui.app import EXIT_STARTUP_FAILED, MsgwatchApp
from tui.config import load_config
from tui.services.console_session import SessionOptions, StatusSource
from tui.store import Store

from .conftest import demo_options, event, message_list, screen_text, sid, wait_for

ACCOUNT = "AC" + "0123456789abcdef" * 2


def live_options(
    tmp_path: Path, env_extra: dict[str, str] | None = None, **changes: object
) -> SessionOptions:
    (tmp_path / "msgwatch.toml").write_text("")
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "f" * 32,
        # Nothing listens there: reconciliation fails quietly, which is all a test needs.
        "MSGWATCH_API_BASE": "http://127.0.0.1:9",
        **(env_extra or {}),
    }
    config = load_config(env=env, home=tmp_path, config_path=tmp_path / "msgwatch.toml")
    values: dict[str, object] = {"config": config, "db_path": tmp_path / "shared.db"}
    values.update(changes)
    return SessionOptions(**values)  # type: ignore[arg-type]


async def test_no_receiver_follows_what_another_process_writes(tmp_path: Path) -> None:
    app = MsgwatchApp(live_options(tmp_path, receiver=False))
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the main screen")
        assert app.session.info().source is StatusSource.FOLLOWING
        await wait_for(
            pilot, lambda: "following the database" in screen_text(app), "the header's mode"
        )
        assert "f" * 32 not in screen_text(app)  # the token never shows
        # A `msgwatch serve` elsewhere: another Store (another writer) on the same file.
        serve = await Store.open(tmp_path / "shared.db")
        try:
            now = time.time()
            extra = [("To", "+14155550100"), ("From", "+14155550111")]
            await serve.ingest(event(sid(1), "sent", now, extra=extra))
            listing = message_list(app)
            await wait_for(pilot, lambda: listing.window.total == 1, "the row from serve")
            await serve.ingest(event(sid(1), "delivered", now + 1, extra=extra))
            await wait_for(
                pilot,
                lambda: (
                    (row := listing.window.row(0)) is not None
                    and row.status is not None
                    and row.status.value == "delivered"
                ),
                "the status change from serve",
            )
        finally:
            await serve.close()


async def test_a_taken_port_falls_back_to_following(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = MsgwatchApp(live_options(tmp_path, {"MSGWATCH_PORT": str(port)}))
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the main screen")
            await pilot.pause()
            text = screen_text(app)
            assert f"port {port} is taken" in text
            assert app.session.info().source is StatusSource.FOLLOWING


async def test_an_unusable_database_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    app = MsgwatchApp(demo_options(tmp_path, db_path=blocker / "console.db"))
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code == EXIT_STARTUP_FAILED


async def test_a_corrupt_database_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    app = MsgwatchApp(demo_options(tmp_path, db_path=bad))
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code == EXIT_STARTUP_FAILED
