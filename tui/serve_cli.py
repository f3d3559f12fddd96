"""`msgwatch serve`: the callback receiver, headless, writing to the database.

For when no one is watching, or for a team: one `serve` owns the callback port and any
number of consoles follow its database. The auth token comes from TWILIO_AUTH_TOKEN only:
a command-line flag would show in `ps` for everyone on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

from platformdirs import user_data_dir

from tui.config import ConfigError, load_config
from tui.domain.masking import mask_secret
from tui.event_loop import loop_factory
from tui.server.receiver import Receiver, ReceiverConfig
from tui.server.request_log import LineFormatter
from tui.server.runner import ReceiverServer, UnsafeBindError
from tui.server.verify import SignatureConfig
from tui.services.lifecycle import Lifecycle
from tui.services.reconcile import Reconciler
from tui.signals import until_stopped
from tui.store import Store, StoreError
from tui.twilio import Gateway

DEFAULT_PORT = 1337


def default_db() -> Path:
    return Path(user_data_dir("msgwatch", appauthor=False)) / "msgwatch.db"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument("--db", type=Path, default=None, help=f"database (default {default_db()})")
    parser.add_argument(
        "--public-url",
        default=None,
        help="the URL Twilio calls, e.g. https://abc.ngrok.app (signatures are checked on it)",
    )
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="accept unsigned requests (loopback only; for local experiments)",
    )
    parser.add_argument("--auto-reply", default=None, help="answer inbound messages with this")
    parser.add_argument("--log-bodies", action="store_true", help="include bodies in log lines")


async def _serve(args: argparse.Namespace) -> int:
    token = os.environ.get("TWILIO_AUTH_TOKEN") or None
    if token is None and not args.no_validate:
        print(
            "msgwatch serve: set TWILIO_AUTH_TOKEN to check Twilio's signatures "
            "(or pass --no-validate on loopback).",
            file=sys.stderr,
        )
        return 2
    if args.no_validate:
        token = None
        logging.getLogger("msgwatch").warning(
            "SIGNATURE VALIDATION IS OFF: anyone who can reach %s:%s can write message "
            "states into the database.", args.host, args.port,
        )  # fmt: skip
    db = args.db or default_db()
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        store = await Store.open(db)
    except StoreError as exc:
        print(f"msgwatch serve: {exc}", file=sys.stderr)
        return 1
    signature = SignatureConfig(
        auth_token=token,
        public_url=args.public_url,
        shared_key=os.environ.get("TWILIO_WEBHOOK_SHARED_KEY") or None,
    )
    receiver = Receiver(
        store, ReceiverConfig(signature, auto_reply=args.auto_reply, log_bodies=args.log_bodies)
    )
    try:
        server = ReceiverServer(receiver, args.host, args.port)
        base_url = await server.start()
    except (UnsafeBindError, OSError) as exc:
        await store.close()
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
            message = f"port {args.port} on {args.host} is already in use."
        else:
            message = str(exc)
        print(f"msgwatch serve: {message}", file=sys.stderr)
        return 1
    public = args.public_url or base_url
    checking = f"validating signatures (token {mask_secret(token)})" if token else "NOT validating"
    print(
        f"Receiving on {base_url}; Twilio should call {public}/message-status and "
        f"{public}/incoming\n  database {db}\n  {checking}\n  health {base_url}/healthz",
        flush=True,
    )
    reconciler = await _start_reconciler(store, args.public_url)
    try:
        await until_stopped()
    finally:
        if reconciler is not None:
            await reconciler.stop()
            await reconciler.lifecycle.gateway.close()
        await server.stop()  # stop taking requests, then commit what is queued
        await store.close()
    print("Receiver stopped.", flush=True)
    return 0


async def _start_reconciler(store: Store, public_url: str | None) -> Reconciler | None:
    """With full Twilio credentials, fetch what lost callbacks left in flight: once now,
    then every `reconcile_every` seconds. Without them the receiver still works alone."""
    log = logging.getLogger("msgwatch")
    try:
        config = load_config()
    except ConfigError as exc:
        log.warning("reconciliation off: %s", exc)
        return None
    if config.credentials is None or config.demo:
        log.info("reconciliation off: no Twilio account configured (TWILIO_ACCOUNT_SID...)")
        return None
    creds = config.credentials
    gateway = Gateway(creds.account_sid, creds.username, creds.password, api_base=config.api_base)
    await gateway.start()
    lifecycle = Lifecycle(store, gateway, public_url=public_url)
    reconciler = Reconciler(
        lifecycle,
        stuck_after=timedelta(seconds=config.stuck_after),
        every=config.reconcile_every,
    )
    reconciler.start()
    log.info(
        "reconciliation on: messages in flight for over %.0f s are fetched every %.0f s (%s)",
        config.stuck_after, config.reconcile_every, creds.masked,
    )  # fmt: skip
    return reconciler


def run(args: argparse.Namespace) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(_serve(args))
