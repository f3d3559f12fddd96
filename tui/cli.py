"""The `msgwatch` command line: parses arguments and hands off to the part that does the work.

`msgwatch` alone (or with only options, `msgwatch --demo`) is `msgwatch console`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui import __version__

# name -> help text
_COMMANDS: dict[str, str] = {
    "console": "open the console: live message list, compose and triage (the default)",
    "serve": "run the callback receiver headless, writing to the database",
    "emulator": "run the local Twilio (Messages API + simulated carrier) on its own",
    "send": "send or schedule one message from the command line",
    "export": "export messages and their events as JSONL or CSV",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="msgwatch",
        description=(
            "A terminal console for Twilio Programmable Messaging. With no credentials it "
            "runs against a built-in local Twilio (demo mode)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"msgwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in _COMMANDS.items():
        command = sub.add_parser(name, help=text, description=text)
        if name == "emulator":
            from tui import emulator_cli

            emulator_cli.add_arguments(command)
        elif name == "serve":
            from tui import serve_cli

            serve_cli.add_arguments(command)
        elif name == "send":
            from tui import send_cli

            send_cli.add_arguments(command)
        elif name == "export":
            from tui import export_cli

            export_cli.add_arguments(command)
        elif name == "console":
            from tui import console_cli

            console_cli.add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "console")  # `msgwatch --demo` is `msgwatch console --demo`
    args = parser.parse_args(argv)
    command = args.command or "console"
    if command == "console":
        from tui import console_cli

        return console_cli.run(args)
    if command == "emulator":
        from tui import emulator_cli

        return emulator_cli.run(args)
    if command == "serve":
        from tui import serve_cli

        return serve_cli.run(args)
    if command == "send":
        from tui import send_cli

        return send_cli.run(args)
    if command == "export":
        from tui import export_cli

        return export_cli.run(args)
    parser.error(f"unknown command {command!r}")  # argparse refuses these first
    return 2


if __name__ == "__main__":
    sys.exit(main())
