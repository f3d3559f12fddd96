"""The gateway: every Messages API call msgwatch makes, through the official SDK's asyncio
client, with a timeout on each attempt, safe retries and typed errors.

Owns the SDK client's lifetime (made inside the running loop, closed in `close`), the
base-URL override (the emulator, a proxy) and the retry loop. The retry rules are in
failures.py, the back-off in retry.py, the wire observations in wire.py.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from .errors import OutcomeUnknownError
from .failures import classify
from .remote import RemoteMessage, from_instance
from .retry import RetryPolicy
from .wire import new_http_client, observe

__all__ = ["Gateway", "RemoteMessage", "RetryPolicy"]

log = logging.getLogger(__name__)

T = TypeVar("T")

TWILIO_API = "https://api.twilio.com"
_API_VERSION = "2010-04-01"
# Twilio's list maximum (https://www.twilio.com/docs/usage/twilios-response#pagination):
# more answers error 20007, and the SDK sends whatever it is given.
MAX_PAGE_SIZE = 1000
DEFAULT_RETRY = RetryPolicy()  # frozen, so one shared default is safe

# What one attempt can fail with. Anything else is a bug here and propagates as it is.
_ATTEMPT_FAILURES = (TwilioException, aiohttp.ClientError, OSError, TimeoutError, ValueError)


def _utc(moment: datetime, name: str) -> datetime:
    # The SDK formats datetimes with a literal "Z" without converting them, so a non-UTC
    # time would be sent as the wrong instant; a naive one has no instant at all.
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


class Gateway:
    """Twilio's Messages API for one account.

    `username` is the Account SID or an API key SID (SK...); `password` the Auth Token or
    the key's secret. `api_base` sends every request, paging included, to another host
    (the emulator); TWILIO_EDGE / TWILIO_REGION then have no effect. `timeout` bounds each
    attempt (the SDK's own timeout is ignored by its async client); `sleep` is how the
    gateway waits between retries, and `jitter` draws the back-off's random fraction.
    """

    def __init__(
        self,
        account_sid: str,
        username: str,
        password: str,
        *,
        api_base: str | None = None,
        timeout: float = 15.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not (account_sid and username and password):
            # The SDK would quietly fall back to TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN.
            raise ValueError("account_sid, username and password are all required")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.account_sid = account_sid
        self.username = username
        self._password = password
        self._override = api_base.rstrip("/") if api_base else None
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._jitter = jitter
        self._http: Any = None
        self._client: Any = None

    def __repr__(self) -> str:
        return (
            f"Gateway(account_sid={self.account_sid!r}, username={self.username!r}, "
            f"password='***', api_base={self.api_base!r})"
        )

    @property
    def api_base(self) -> str:
        """The effective base URL ("https://api.twilio.com" unless overridden)."""
        return self._override or TWILIO_API

    async def start(self) -> None:
        """Make the SDK client; inside the running loop, as its aiohttp session must be."""
        if self._client is not None:
            return
        self._http = new_http_client()
        client = Client(self.username, self._password, self.account_sid, http_client=self._http)
        if self._override is not None:
            client.api.base_url = self._override  # the SDK's host override, paging included
            # The SDK rewrites hosts with these (127.0.0.1 -> 127.ie1.0.1); with an
            # override they must not apply. Cleared on this client; os.environ untouched.
            client.edge = None
            client.region = None
        self._client = client

    async def close(self) -> None:
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # --- operations ---------------------------------------------------------------------

    async def create(
        self,
        *,
        to: str,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        body: str | None = None,
        media_urls: Sequence[str] = (),
        status_callback: str | None = None,
        send_at: datetime | None = None,
        validity_period: int | None = None,
        smart_encoded: bool | None = None,
    ) -> RemoteMessage:
        """Create (send or schedule) a message. Never replayed after it may have reached
        Twilio: OutcomeUnknownError then. `send_at` schedules it (ScheduleType=fixed)."""
        kwargs: dict[str, Any] = {"to": to}
        optional: dict[str, Any] = {
            "from_": from_,
            "messaging_service_sid": messaging_service_sid,
            "body": body,
            "status_callback": status_callback,
            "validity_period": validity_period,
            "smart_encoded": smart_encoded,
        }
        kwargs.update((name, value) for name, value in optional.items() if value is not None)
        if media_urls:
            kwargs["media_url"] = list(media_urls)
        if send_at is not None:
            kwargs["schedule_type"] = "fixed"
            kwargs["send_at"] = _utc(send_at, "send_at")
        messages = self._messages()
        instance = await self._call("create", lambda: messages.create_async(**kwargs),
                                    replayable=False)  # fmt: skip
        message = from_instance(instance)
        if message.facts.sid is None:  # a 2xx without a resource: created, but which?
            raise OutcomeUnknownError("Twilio accepted the create but returned no message SID")
        return message

    async def fetch(self, sid: str) -> RemoteMessage:
        context = self._messages()(sid)
        return from_instance(await self._call("fetch", context.fetch_async))

    async def cancel(self, sid: str) -> RemoteMessage:
        """Cancel a scheduled message (Status=canceled)."""
        context = self._messages()(sid)
        instance = await self._call("cancel", lambda: context.update_async(status="canceled"))
        return from_instance(instance)

    async def redact(self, sid: str) -> RemoteMessage:
        """Remove a message's body at Twilio (Body="")."""
        context = self._messages()(sid)
        instance = await self._call("redact", lambda: context.update_async(body=""))
        return from_instance(instance)

    async def delete(self, sid: str) -> None:
        context = self._messages()(sid)
        await self._call("delete", context.delete_async)

    async def list_page(
        self,
        *,
        to: str | None = None,
        from_: str | None = None,
        date_sent_after: datetime | None = None,
        date_sent_before: datetime | None = None,
        page_size: int = 50,
        page_url: str | None = None,
    ) -> tuple[list[RemoteMessage], str | None]:
        """One page of messages, newest first, and the next page's URL (None at the end).

        `page_url` continues an earlier listing; it already carries the filters, so the
        other arguments are then ignored. It is always sent to this gateway's `api_base`,
        whatever host it names: a URL stored by an earlier run (another emulator port, or
        the real API) still continues here, and credentials never go to a host taken from
        a URL. Twilio filters DateSent by GMT day.
        """
        messages = self._messages()
        if page_url is not None:
            target = self._rebase(page_url)
            page = await self._call("list", lambda: messages.get_page_async(target))
        else:
            if not 1 <= page_size <= MAX_PAGE_SIZE:
                raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
            filters: dict[str, Any] = {"page_size": page_size}
            if to is not None:
                filters["to"] = to
            if from_ is not None:
                filters["from_"] = from_
            if date_sent_after is not None:
                filters["date_sent_after"] = _utc(date_sent_after, "date_sent_after")
            if date_sent_before is not None:
                filters["date_sent_before"] = _utc(date_sent_before, "date_sent_before")
            page = await self._call("list", lambda: messages.page_async(**filters))
        rows = [from_instance(instance) for instance in page]
        following = page.next_page_url
        return rows, (self._rebase(following) if following else None)

    # --- machinery ----------------------------------------------------------------------

    def _messages(self) -> Any:
        if self._client is None:
            raise RuntimeError("Gateway.start() must be awaited before calling Twilio")
        return self._client.api.v2010.account.messages

    def _rebase(self, url: str) -> str:
        """`url`'s path and query on this gateway's base: paging follows the override."""
        parts = urlsplit(url)
        expected = f"/{_API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        if not parts.path.endswith(expected):
            raise ValueError(f"not a page of this account's messages: {url!r}")
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.api_base}{expected}{query}"

    async def _call(
        self, operation: str, attempt: Callable[[], Awaitable[T]], *, replayable: bool = True
    ) -> T:
        """Run `attempt` under the timeout, retrying what failures.py says may be retried.
        `replayable` is False for a create: it is never sent twice."""
        policy = self.retry
        for number in range(1, policy.attempts + 1):
            with observe() as exchange:
                try:
                    async with asyncio.timeout(self.timeout):
                        return await attempt()
                except _ATTEMPT_FAILURES as exc:
                    failure = classify(exc, exchange, replayable=replayable, timeout=self.timeout)
                    cause = exc
            error = failure.error
            if isinstance(error, OutcomeUnknownError):
                log.warning("%s: outcome unknown: %s", operation, error)
            last = number == policy.attempts
            if not failure.retry or last:
                raise error from cause
            wait = policy.delay(number, self._jitter())
            if failure.retry_after is not None:
                if failure.retry_after > policy.max_delay:
                    # Twilio asked for a longer pause than this call may take: give the
                    # caller the error (with retry_after) to schedule the retry itself.
                    raise error from cause
                wait = max(wait, failure.retry_after)
            log.info(
                "%s failed (%s); retry %d of %d in %.2f s",
                operation, error, number, policy.attempts - 1, wait,
            )  # fmt: skip
            await self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")
