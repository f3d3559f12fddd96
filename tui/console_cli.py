"""`msgwatch` / `msgwatch console`: parse the console's options and run the app.

Configuration problems, a locked database or a taken port end with one sentence on
stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from platformdirs import user_log_dir

from tui.config import ConfigError, load_config
from tui.emulator.scenarios import PRESETS
from tui.event_loop import loop_factory
from tui.server.request_log import LineFormatter
from tui.terminal_watch import EXIT_HUNG_UP, has_hung_up, watch_for_hangup


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo", action="store_true", help="use the built-in local Twilio even with credentials"
    )
    parser.add_argument(
        "--scenario",
        default="happy",
        help=f"demo carrier behaviour: {', '.join(PRESETS)} or a .toml file (default: happy)",
    )
    parser.add_argument(
        "--no-receiver",
        action="store_true",
        help="do not receive callbacks here; follow the database a `msgwatch serve` writes",
    )
    parser.add_argument("--db", type=Path, default=None, help="database file")
    parser.add_argument("--port", type=int, default=None, help="receiver port (live mode)")
    parser.add_argument("--public-url", default=None, help="the URL Twilio calls (live mode)")
    parser.add_argument("--profile", default=None, help="Twilio CLI profile to use")
    parser.add_argument("--seed", type=int, default=None, help="repeatable demo traffic")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="demo carrier time factor (2 = twice as fast)"
    )
    parser.add_argument(
        "--present",
        action="store_true",
        help="presenter mode: mask numbers and bodies, hide the account, large badges (P)",
    )


def _log_to_file() -> Path:
    """Send log records to a file: a stream handler would write over the screen."""
    folder = Path(user_log_dir("msgwatch", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "console.log"
    log_to(path)
    return path


def log_to(path: Path) -> None:
    """The console's logging: INFO to `path`, the receiver's per-callback lines off."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(LineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # One line per callback is what `msgwatch serve` is for; in the console the list shows
    # them, and formatting the lines cost 7% of the event loop at 1,000 callbacks/s.
    logging.getLogger("msgwatch.receiver").setLevel(logging.WARNING)
    # The SDK logs every request at INFO (11 lines each, account SID included): noise.
    logging.getLogger("twilio").setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    from tui.services.console_session import SessionOptions

    if args.speed <= 0:
        print("msgwatch: --speed must be more than 0.", file=sys.stderr)
        return 2
    try:
        config = load_config(
            profile=args.profile,
            overrides={"port": args.port, "public_url": args.public_url},
        )
    except ConfigError as exc:
        print(f"msgwatch: {exc}", file=sys.stderr)
        return 2
    if args.scenario not in PRESETS and not Path(args.scenario).is_file():
        print(
            f"msgwatch: unknown scenario {args.scenario!r}: use one of {', '.join(PRESETS)} "
            "or a .toml file.",
            file=sys.stderr,
        )
        return 2
    _log_to_file()
    options = SessionOptions(
        config=config,
        demo=args.demo,
        scenario=args.scenario,
        receiver=not args.no_receiver,
        seed=args.seed,
        speed=args.speed,
        db_path=args.db,
    )
    from tui.app import MsgwatchApp
    from tui.store.writer_process import ensure_forkserver

    ensure_forkserver()  # while stderr is still the terminal's (see its docstring)

    app = MsgwatchApp(options, present=args.present)
    # App.run() would take asyncio's default loop; the receiver shares this one.
    terminal = sys.stdin.fileno()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        loop = runner.get_loop()
        watched = watch_for_hangup(terminal, lambda: loop.call_soon_threadsafe(app.exit))
        try:
            runner.run(app.run_async())
        except OSError:
            # Textual draws on stderr; ending with no terminal to restore, its last write
            # can fail (EIO), after the session stopped and the store closed. Logged, as a
            # traceback would go to the terminal that is gone.
            if watched is None or not has_hung_up(terminal):
                raise
            logging.getLogger("msgwatch").exception("ending after the terminal hung up")
    if watched is not None and has_hung_up(terminal):
        return EXIT_HUNG_UP  # the status says why the console ended, as SIGHUP's would
    return app.return_code or 0
