"""Everything a console runs besides the screen, started and stopped in order.

Demo mode: the store, the receiver on a free loopback port, the local Twilio (its carrier
posts signed callbacks to that receiver, checked with the local account's token), the
gateway pointed at it, and a trickle of simulated sends.

Live mode: the store, the receiver on the configured port (unless another process owns it:
then the console follows the database that process writes), the gateway to Twilio, the
reconciler, and the poller when Twilio cannot reach the receiver.

No Textual here: the app holds a session and shows `info()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from tui.config import Config
from tui.domain.masking import short_sid
from tui.emulator.accounts import Credentials
from tui.emulator.runner import LocalTwilio
from tui.emulator.scenarios import load_scenario
from tui.server.receiver import Receiver, ReceiverConfig
from tui.server.runner import ReceiverServer, UnsafeBindError
from tui.server.verify import SignatureConfig
from tui.store import Store, StoreError
from tui.store.writer_process import WriterGoneError
from tui.twilio import Gateway

from .change_tracker import ChangeTracker
from .demo_traffic import DEMO_SERVICE, SENDERS, DemoTraffic
from .lifecycle import CALLBACK_PATH, Lifecycle
from .polling import Poller
from .reconcile import Reconciler

log = logging.getLogger("msgwatch.session")


class SessionError(RuntimeError):
    """The console cannot start; the message says why in one sentence."""


class Mode(StrEnum):
    DEMO = "demo"
    LIVE = "live"


class StatusSource(StrEnum):
    CALLBACKS = "callbacks"  # Twilio posts them to our receiver
    POLLING = "polling"  # no public URL: we fetch in-flight messages
    FOLLOWING = "following"  # another process receives; we read its database


@dataclass(frozen=True, slots=True)
class SessionOptions:
    config: Config
    demo: bool = False  # forced by --demo; also when no credentials are configured
    scenario: str = "happy"
    receiver: bool = True  # False: --no-receiver, follow the database
    seed: int | None = None  # repeatable demo traffic and carrier
    traffic: bool = True  # the demo trickle (off for tests that send on their own)
    speed: float = 1.0  # the demo carrier's time factor
    db_path: Path | None = None  # overrides the configured database
    # Demo only: fixed local-Twilio credentials and receiver port, for repeatable
    # screenshots; by default fresh random credentials and a free port.
    credentials: Credentials | None = None
    demo_port: int = 0


@dataclass(frozen=True, slots=True)
class ReceiverHealth:
    listening: str | None  # base URL, or None when this console has no receiver
    why_not: str | None  # why there is no receiver (port taken, --no-receiver...)
    received: int
    rejected: int
    last_callback_age: float | None  # seconds


@dataclass(frozen=True, slots=True)
class SessionInfo:
    mode: Mode
    account: str  # masked
    callback_url: str | None  # what Twilio is told to call, None when nothing can
    source: StatusSource
    receiver: ReceiverHealth
    db_path: Path
    scenario: str | None  # demo only


class ConsoleSession:
    def __init__(self, options: SessionOptions) -> None:
        self.options = options
        config = options.config
        self.mode = Mode.DEMO if options.demo or config.demo else Mode.LIVE
        self.store: Store | None = None
        self.lifecycle: Lifecycle | None = None
        self.changes: ChangeTracker | None = None
        self.local: LocalTwilio | None = None
        self.server: ReceiverServer | None = None
        self.receiver: Receiver | None = None
        self.reconciler: Reconciler | None = None
        self.poller: Poller | None = None
        self.traffic: DemoTraffic | None = None
        self.why_no_receiver: str | None = None
        self.senders: tuple[str, ...] = ()  # what the compose pane offers as From
        self.started_at = time.monotonic()
        self._statistics: asyncio.Task[None] | None = None
        self._stack = AsyncExitStack()

    @property
    def db_path(self) -> Path:
        if self.options.db_path is not None:
            return self.options.db_path
        config = self.options.config
        if self.mode is Mode.DEMO and config.sources.get("db_path", "default") == "default":
            # Demo messages stay out of the real history unless a database was chosen.
            return config.db_path.with_name("demo.db")
        return config.db_path

    async def start(self) -> None:
        """Start everything; on failure, stop what started and raise SessionError."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        path = self.db_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SessionError(f"cannot create {path.parent}: {exc.strerror}.") from None
        try:
            self.store = await Store.open(path)
        except StoreError as exc:
            raise SessionError(str(exc)) from None
        except WriterGoneError:
            raise SessionError(
                f"the database writer process for {path} stopped while starting (see the log)."
            ) from None
        self._stack.push_async_callback(self.store.close)
        if self.mode is Mode.DEMO:
            await self._start_demo(self.store)
        else:
            await self._start_live(self.store)
        following = self.server is None
        self.changes = ChangeTracker(self.store, follow_other_writers=following)
        await self.changes.start()
        self._stack.push_async_callback(self.changes.stop)
        self._statistics = asyncio.create_task(self._refresh_statistics(self.store))
        self._stack.push_async_callback(self._cancel_statistics)

    async def _refresh_statistics(self, store: Store) -> None:
        try:
            await store.refresh_statistics()
        except Exception as exc:  # a busy or read-only database plans without them
            log.warning("planner statistics not refreshed: %s", exc)

    async def _cancel_statistics(self) -> None:
        if self._statistics is not None:
            self._statistics.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._statistics

    async def _start_demo(self, store: Store) -> None:
        try:
            scenario = load_scenario(self.options.scenario)
        except ValueError as exc:
            raise SessionError(str(exc)) from None
        credentials = self.options.credentials or Credentials.generate()
        base = await self._start_receiver(
            store, credentials.auth_token, "127.0.0.1", self.options.demo_port, None
        )
        local = LocalTwilio(
            credentials=credentials,
            scenario=scenario,
            speed=self.options.speed,
            seed=self.options.seed,
            inbound_url=f"{base}/incoming" if base else None,
        )
        self.local = local
        api_base = await local.start()
        self._stack.push_async_callback(local.stop)
        gateway = Gateway(
            credentials.account_sid,
            credentials.account_sid,
            credentials.auth_token,
            api_base=api_base,
        )
        await gateway.start()
        self._stack.push_async_callback(gateway.close)
        self.lifecycle = Lifecycle(store, gateway, public_url=base, default_from=SENDERS[0])
        self.senders = (*SENDERS, DEMO_SERVICE)
        # The chaos scenario drops callbacks: without reconciliation those rows would show
        # their last acknowledged status for the whole demo, as they would live.
        self._start_reconciler(self.lifecycle)
        if self.options.traffic:
            self.traffic = DemoTraffic(self.lifecycle, seed=self.options.seed)
            self.traffic.start()
            self._stack.push_async_callback(self.traffic.stop)

    async def _start_live(self, store: Store) -> None:
        config = self.options.config
        creds = config.credentials
        assert creds is not None  # live mode means credentials were found
        if self.options.receiver:
            if creds.signing_token is None:
                self.why_no_receiver = (
                    "no auth token to check signatures with (API key only): following the database"
                )
            else:
                await self._start_receiver(
                    store, creds.signing_token, config.host, config.port, config.public_url
                )
        else:
            self.why_no_receiver = "--no-receiver: following the database"
        gateway = Gateway(
            creds.account_sid, creds.username, creds.password, api_base=config.api_base
        )
        await gateway.start()
        self._stack.push_async_callback(gateway.close)
        public = config.public_url if self.server is not None else None
        self.lifecycle = Lifecycle(
            store,
            gateway,
            public_url=public,
            default_from=config.from_number,
            default_service=config.messaging_service_sid,
        )
        self.senders = tuple(
            s for s in (config.from_number, config.messaging_service_sid) if s is not None
        )
        self._start_reconciler(self.lifecycle)
        if public is None and self.server is not None:
            # Twilio cannot reach us: fetch what is in flight, within the request budget.
            self.poller = Poller(self.lifecycle, budget_per_minute=config.poll_budget_per_minute)
            await self.poller.watch_in_flight()
            self.poller.start()
            self._stack.push_async_callback(self.poller.stop)

    def _start_reconciler(self, lifecycle: Lifecycle) -> None:
        config = self.options.config
        self.reconciler = Reconciler(
            lifecycle,
            stuck_after=timedelta(seconds=config.stuck_after),
            every=config.reconcile_every,
        )
        self.reconciler.start()
        self._stack.push_async_callback(self.reconciler.stop)

    async def _start_receiver(
        self, store: Store, token: str, host: str, port: int, public_url: str | None
    ) -> str | None:
        signature = SignatureConfig(auth_token=token, public_url=public_url)
        receiver = Receiver(store, ReceiverConfig(signature))
        try:
            server = ReceiverServer(receiver, host, port)
            base = await server.start()
        except UnsafeBindError as exc:
            raise SessionError(str(exc)) from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                self.why_no_receiver = (
                    f"port {port} is taken (a `msgwatch serve`?): following the database"
                )
            else:
                self.why_no_receiver = f"cannot listen on {host}:{port} ({exc.strerror})"
            log.warning("receiver off: %s", self.why_no_receiver)
            return None
        self.server, self.receiver = server, receiver
        self._stack.push_async_callback(server.stop)
        return base

    async def stop(self) -> None:
        """Stop in reverse order: traffic and background rounds, then the receiver (it
        stops taking requests), the emulator, the gateway, and last the store, which
        commits what is queued."""
        await self._stack.aclose()

    # -- what the header shows ---------------------------------------------------------

    def info(self) -> SessionInfo:
        config = self.options.config
        if self.mode is Mode.DEMO:
            account = self.local.credentials.account_sid if self.local else "local"
            account = f"{short_sid(account)} (local Twilio)"
        else:
            assert config.credentials is not None
            account = config.credentials.masked
        callback_url: str | None = None
        if self.lifecycle is not None and self.lifecycle.public_url:
            callback_url = self.lifecycle.public_url + CALLBACK_PATH
        if self.server is None:
            source = StatusSource.FOLLOWING
        elif callback_url is None:
            source = StatusSource.POLLING
        else:
            source = StatusSource.CALLBACKS
        stats = self.receiver.stats if self.receiver else None
        age = None
        if stats is not None and stats.last_callback is not None:
            age = time.monotonic() - stats.last_callback
        health = ReceiverHealth(
            listening=self.server.base_url if self.server else None,
            why_not=self.why_no_receiver,
            received=stats.received if stats else 0,
            rejected=stats.rejected if stats else 0,
            last_callback_age=age,
        )
        return SessionInfo(
            mode=self.mode,
            account=account,
            callback_url=callback_url,
            source=source,
            receiver=health,
            db_path=self.db_path,
            scenario=self.options.scenario if self.mode is Mode.DEMO else None,
        )
