"""Fault injection: make the emulator's Messages API misbehave on purpose.

Owns a queue of one-shot rules that tests and demos load to exercise a client's timeouts,
back-off and "never replay a create" logic over real HTTP. Each rule names one operation
(create, list, fetch, update, delete) and fires on the next `times` requests for it; rules
for the same operation fire in the order they were added. There are two families:

- refuse: answer an error *instead of* running the operation, so nothing changes (a 429
  with code 20429, a 503 from a front end that never reached the service).
- after commit: run the operation for real (the message is created, updated, deleted),
  then answer an error or hold the answer back. The client cannot tell whether its request
  took effect: exactly the case in which replaying a create would send a message twice.

A rule is consumed by the request it matches even when that request fails on its own
merits (a bad `To`): such a request answers its real error, since nothing was committed.
Refusals happen before authentication, as a load balancer's would.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web
from aiohttp.typedefs import Middleware

from .model import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Long enough to outlast any client timeout a test sets, short enough that a forgotten
# hang cannot keep a process alive for long; `Faults.release` ends hangs at once.
DEFAULT_HANG_SECONDS = 30.0


class Operation(StrEnum):
    """The Messages API operations a fault can target."""

    CREATE = "create"
    LIST = "list"
    FETCH = "fetch"
    UPDATE = "update"  # cancel and redact
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Fault:
    """One misbehaviour. `commit` runs the real operation first; then the answer is either
    the error (`status`/`code`/`message`) or the real answer held back for `hang` seconds."""

    operation: Operation
    commit: bool
    status: int = 500
    code: int = 20500
    message: str = "Internal Server Error"
    hang: float | None = None
    retry_after: int | None = None  # seconds, sent as a Retry-After header

    def response(self) -> web.Response:
        body = ApiError(self.status, self.code, self.message).body()
        response = web.Response(
            text=json.dumps(body), status=self.status, content_type="application/json"
        )
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


@dataclass(slots=True)
class _Rule:
    fault: Fault
    remaining: int


class Faults:
    """The queue of faults one emulator applies; empty means a well-behaved emulator."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._holds: set[asyncio.Event] = set()
        self.fired: list[Fault] = []  # every fault applied, oldest first (for assertions)

    def add(self, fault: Fault, times: int = 1) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self._rules.append(_Rule(fault, times))

    def refuse(
        self,
        operation: Operation | str = Operation.CREATE,
        *,
        status: int = 429,
        code: int = 20429,
        message: str = "Too Many Requests",
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """Answer an error without running the operation (nothing is created or changed)."""
        after = None if retry_after is None else math.ceil(retry_after)  # RFC 9110: seconds
        fault = Fault(Operation(operation), False, status, code, message, retry_after=after)
        self.add(fault, times)

    def fail_after_commit(
        self,
        operation: Operation | str = Operation.CREATE,
        *,
        status: int = 500,
        code: int = 20500,
        message: str = "Internal Server Error",
        times: int = 1,
    ) -> None:
        """Run the operation for real, then answer an error instead of its result."""
        self.add(Fault(Operation(operation), True, status, code, message), times)

    def hang_after_commit(
        self,
        operation: Operation | str = Operation.CREATE,
        *,
        seconds: float = DEFAULT_HANG_SECONDS,
        times: int = 1,
    ) -> None:
        """Run the operation for real, then hold the answer `seconds` (or until released)."""
        self.add(Fault(Operation(operation), True, hang=seconds), times)

    @property
    def pending(self) -> int:
        """How many more requests will meet a fault."""
        return sum(rule.remaining for rule in self._rules)

    def clear(self) -> None:
        self._rules.clear()

    def take(self, operation: Operation) -> Fault | None:
        """The fault for the next request of `operation`, consuming one use of it."""
        for index, rule in enumerate(self._rules):
            if rule.fault.operation is operation:
                rule.remaining -= 1
                if rule.remaining == 0:
                    del self._rules[index]
                self.fired.append(rule.fault)
                return rule.fault
        return None

    async def hold(self, seconds: float) -> None:
        """Wait `seconds`, or less if `release` is called meanwhile."""
        event = asyncio.Event()
        self._holds.add(event)
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._holds.discard(event)

    def release(self) -> None:
        """End every hang now: the server calls this before it stops, so shutdown does not
        wait for answers nobody is waiting for any more."""
        for event in self._holds:
            event.set()


def faults_middleware(
    faults: Faults, operation_of: Callable[[web.Request], Operation | None]
) -> Middleware:
    """An aiohttp middleware applying `faults`; place it outside the error middleware so a
    committed request's real answer (success or Twilio-shaped error) is what it sees."""

    @web.middleware
    async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        operation = operation_of(request)
        fault = faults.take(operation) if operation is not None else None
        if fault is None:
            return await handler(request)
        if not fault.commit:
            return fault.response()
        response = await handler(request)
        if response.status >= 400:  # nothing was committed: the real error is the answer
            return response
        if fault.hang is not None:
            await faults.hold(fault.hang)
            return response
        return fault.response()

    return inject_faults
