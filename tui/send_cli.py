"""`msgwatch send`: send or schedule one message, for scripts and demos.

Prints the SID and, with `--wait`, each status until a final one. Exit codes: 0 sent and
(with --wait) delivered or read; 1 refused, failed, undelivered, canceled, or still not
final when --timeout ran out; 2 a usage or configuration error (nothing was sent).

With no Twilio credentials configured it sends to a built-in local Twilio (demo mode),
into a separate demo database, and says so. `--wait` follows the message by polling
Twilio (within the configured request budget), so it works without a receiver.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime
from pathlib import Path

from tui.config import Config, ConfigError, load_config
from tui.domain.errors import explain
from tui.domain.schedule import ScheduleError, parse_send_at
from tui.domain.status import MessageStatus, is_terminal
from tui.emulator.runner import LocalTwilio
from tui.services.lifecycle import Draft, DraftError, Lifecycle, SendResult, check_draft
from tui.services.polling import Poller
from tui.store import Store, StoreError
from tui.twilio import GatewayError
from tui.twilio.gateway import Gateway

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SUCCESS = frozenset({MessageStatus.DELIVERED, MessageStatus.READ})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, help="recipient: +E.164 or whatsapp:+...")
    parser.add_argument("--body", default=None, help="the text (up to 1600 characters)")
    sender = parser.add_mutually_exclusive_group()
    sender.add_argument("--from", dest="from_", default=None, help="sender number or name")
    sender.add_argument("--messaging-service", default=None, help="MG... Messaging Service SID")
    parser.add_argument("--media", action="append", default=[], help="media URL (repeatable)")
    parser.add_argument(
        "--send-at", default=None, help="schedule: ISO time with zone, e.g. 2026-11-24T09:00Z"
    )
    parser.add_argument("--wait", action="store_true", help="print each status until final")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="with --wait: give up after (s, 300)"
    )
    parser.add_argument("--profile", default=None, help="Twilio CLI profile to use")
    parser.add_argument("--api-base", default=None, help="another API base URL (an emulator)")
    parser.add_argument("--db", type=Path, default=None, help="database to record it in")


def _say(text: str) -> None:
    print(text, flush=True)


def _error(text: str) -> None:
    print(f"msgwatch send: {text}", file=sys.stderr, flush=True)


def _describe_error(code: int | None, message: str | None) -> str:
    if code is None:
        return message or ""
    info = explain(code)
    title = info.title if info else (message or "")
    return f"{code} {title}" + (f": {info.explanation}" if info else "")


async def _run(args: argparse.Namespace, config: Config) -> int:
    send_at = None
    if args.send_at:
        try:
            send_at = parse_send_at(args.send_at)
        except ScheduleError as exc:
            _error(f"--send-at: {exc}")
            return EXIT_USAGE
    draft = Draft(
        to=args.to,
        body=args.body,
        from_=args.from_,
        messaging_service_sid=args.messaging_service,
        media_urls=tuple(args.media),
        send_at=send_at,
    )
    try:  # before anything starts: a mistake costs nothing
        draft = check_draft(
            draft, config.from_number, config.messaging_service_sid, datetime.now(UTC)
        )
    except DraftError as exc:
        _error(f"{exc.field}: {exc.message}")
        return EXIT_USAGE
    async with AsyncExitStack() as stack:
        if config.demo:
            local = LocalTwilio(scenario="happy", speed=4.0)
            api_base = await local.start()
            stack.push_async_callback(local.stop)
            creds = local.credentials
            gateway = Gateway(
                creds.account_sid, creds.account_sid, creds.auth_token, api_base=api_base
            )
            # Demo messages stay out of the real history unless a database was chosen.
            chosen = config.sources.get("db_path", "default") != "default"
            db = args.db or (config.db_path if chosen else config.db_path.with_name("demo.db"))
            _say("Demo mode (no Twilio credentials): sending to the built-in local Twilio.")
        else:
            assert config.credentials is not None
            c = config.credentials
            gateway = Gateway(c.account_sid, c.username, c.password, api_base=config.api_base)
            db = args.db or config.db_path
        db.parent.mkdir(parents=True, exist_ok=True)
        store = await Store.open(db)
        stack.push_async_callback(store.close)
        await gateway.start()
        stack.push_async_callback(gateway.close)
        lifecycle = Lifecycle(
            store,
            gateway,
            public_url=config.public_url,
            default_from=config.from_number,
            default_service=config.messaging_service_sid,
        )
        try:
            result = await lifecycle.send(draft)
        except DraftError as exc:
            _error(f"{exc.field}: {exc.message}")
            return EXIT_USAGE
        return await _report(lifecycle, result, args, config)
    return EXIT_FAILED  # unreachable: the block returns


async def _report(
    lifecycle: Lifecycle, result: SendResult, args: argparse.Namespace, config: Config
) -> int:
    if result.outcome_unknown:
        _error(
            f"Twilio's answer was lost ({result.error}); the message may or may not exist. "
            "msgwatch will look it up (reconciliation); it will not send it twice."
        )
        return EXIT_FAILED
    if result.error is not None:
        error = result.error
        _error(f"Twilio refused it: {_describe_error(error.code, error.message)}")
        return EXIT_FAILED
    status = result.status.value if result.status else "?"
    _say(f"{result.sid} {status}")
    if not args.wait:
        return EXIT_OK
    return await _wait(lifecycle, result, args.timeout, config.poll_budget_per_minute)


async def _wait(lifecycle: Lifecycle, result: SendResult, patience: float, budget: int) -> int:
    poller = Poller(lifecycle, budget_per_minute=budget, first=0.5, longest=10.0)
    message = await lifecycle.store.get_message(id=result.message_id)
    poller.watch(result.message_id, send_at=message.send_at if message else None)
    started = time.monotonic()
    shown = result.status
    feed = lifecycle.store.subscribe()
    poller.start()
    try:
        while True:
            message = await lifecycle.store.get_message(id=result.message_id)
            if message is None:
                _error("the message vanished from the database")
                return EXIT_FAILED
            if message.status != shown and message.status is not None:
                shown = message.status
                line = f"  +{time.monotonic() - started:.1f}s {shown.value}"
                if message.error_code:
                    line += f"  {_describe_error(message.error_code, message.error_message)}"
                _say(line)
            if shown is not None and is_terminal(shown):
                return EXIT_OK if shown in SUCCESS else EXIT_FAILED
            left = patience - (time.monotonic() - started)
            if left <= 0:
                _error(f"still {shown.value if shown else 'unknown'} after {patience:.0f} s")
                return EXIT_FAILED
            with suppress(TimeoutError):  # re-read at least every second
                await asyncio.wait_for(feed.next(), min(left, 1.0))
    finally:
        await poller.stop()


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(profile=args.profile, overrides={"api_base": args.api_base})
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_USAGE
    try:
        return asyncio.run(_run(args, config))
    except StoreError as exc:
        _error(str(exc))
        return EXIT_FAILED
    except GatewayError as exc:
        _error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
