"""Retries: rate limits and unsent requests are retried with back-off; a create that may
have reached Twilio is never sent twice."""

import asyncio
import socket

import pytest

from tui.domain.status import MessageStatus
from tui.twilio import Gateway, GatewayError, OutcomeUnknownError, RetryPolicy

from .conftest import FROM, TO, Local


async def test_429_storm_is_ridden_out_with_growing_waits(local: Local, gateway: Gateway) -> None:
    local.faults.refuse("create", status=429, code=20429, times=3)
    created = await gateway.create(to=TO, from_=FROM, body="eventually")
    assert local.sleeps.delays == [0.5, 1.0, 2.0]  # base * 2**n, the top of each window
    assert local.stored() == [created.facts.sid]
    assert local.faults.pending == 0


async def test_429_beyond_the_attempts_is_a_retryable_error(local: Local, gateway: Gateway) -> None:
    local.faults.refuse("create", times=10)
    with pytest.raises(GatewayError) as caught:
        await gateway.create(to=TO, from_=FROM, body="never")
    error = caught.value
    assert not isinstance(error, OutcomeUnknownError)
    assert (error.code, error.http_status, error.retryable) == (20429, 429, True)
    assert len(local.sleeps.delays) == 3  # 4 attempts in all
    assert local.faults.pending == 6 and local.stored() == []


async def test_429_code_without_429_status_is_a_rate_limit(local: Local, gateway: Gateway) -> None:
    local.faults.refuse("fetch", status=400, code=20429)
    created = await gateway.create(to=TO, from_=FROM, body="x")
    assert created.facts.sid is not None
    assert (await gateway.fetch(created.facts.sid)).facts.sid == created.facts.sid
    assert local.sleeps.delays == [0.5]


async def test_full_jitter_stays_inside_the_window(local: Local) -> None:
    local.faults.refuse("create", times=3)
    draws = iter([0.25, 0.5, 0.0])
    async with local.gateway(jitter=lambda: next(draws)) as gateway:
        await gateway.create(to=TO, from_=FROM, body="x")
    assert local.sleeps.delays == [0.125, 0.5, 0.0]


async def test_retry_after_is_honoured(local: Local, gateway: Gateway) -> None:
    local.faults.refuse("create", retry_after=3)
    await gateway.create(to=TO, from_=FROM, body="x")
    assert local.sleeps.delays == [3.0]  # longer than the 0.5 s back-off: Twilio's wish wins


async def test_retry_after_longer_than_the_policy_is_handed_to_the_caller(
    local: Local, gateway: Gateway
) -> None:
    local.faults.refuse("create", retry_after=30)
    with pytest.raises(GatewayError) as caught:
        await gateway.create(to=TO, from_=FROM, body="x")
    assert caught.value.retry_after == 30.0 and caught.value.retryable is True
    assert local.sleeps.delays == [] and local.stored() == []


async def test_500_after_commit_is_outcome_unknown_and_never_replayed(
    local: Local, gateway: Gateway
) -> None:
    local.faults.fail_after_commit("create", status=500, code=20500, times=5)
    with pytest.raises(OutcomeUnknownError) as caught:
        await gateway.create(to=TO, from_=FROM, body="once")
    assert caught.value.http_status == 500 and caught.value.retryable is False
    assert len(local.stored()) == 1  # it happened, exactly once
    assert local.faults.pending == 4 and local.sleeps.delays == []


async def test_hang_after_commit_is_outcome_unknown_and_never_replayed(local: Local) -> None:
    local.faults.hang_after_commit("create", times=5)
    async with local.gateway(timeout=0.3) as gateway:
        with pytest.raises(OutcomeUnknownError) as caught:
            await gateway.create(to=TO, from_=FROM, body="once")
    assert "0.3 s" in caught.value.message and caught.value.http_status is None
    assert len(local.stored()) == 1
    assert local.faults.pending == 4 and local.sleeps.delays == []


async def test_503_before_create_is_still_unknown_to_the_client(
    local: Local, gateway: Gateway
) -> None:
    # The client cannot tell a 503 from a front end apart from one after the work was done.
    local.faults.refuse("create", status=503, code=20503, message="Service Unavailable")
    with pytest.raises(OutcomeUnknownError):
        await gateway.create(to=TO, from_=FROM, body="x")
    assert local.stored() == [] and local.sleeps.delays == []


@pytest.mark.parametrize("operation", ["fetch", "update", "delete"])
async def test_reads_and_idempotent_updates_retry_5xx(
    local: Local, gateway: Gateway, operation: str
) -> None:
    created = await gateway.create(to=TO, from_=FROM, body="x")
    sid = created.facts.sid
    assert sid is not None
    # Finished, so that it may be deleted.
    local.emulator.fetch(local.credentials.account_sid, sid).status = MessageStatus.DELIVERED
    local.faults.fail_after_commit(operation, status=500, times=1)
    local.faults.refuse(operation, status=503, code=20503, times=1)
    if operation == "fetch":
        assert (await gateway.fetch(sid)).facts.sid == sid
    elif operation == "update":
        assert (await gateway.redact(sid)).facts.body == ""
    else:
        # The first DELETE took effect but answered 500; the replay then finds nothing,
        # which Twilio calls 20404: the caller learns the truth, not a false success.
        with pytest.raises(GatewayError) as caught:
            await gateway.delete(sid)
        assert caught.value.code == 20404
    assert local.sleeps.delays == [0.5, 1.0]


async def test_list_retries_a_hang(local: Local) -> None:
    local.faults.hang_after_commit("list")
    async with local.gateway(timeout=0.3) as gateway:
        await gateway.create(to=TO, from_=FROM, body="x")
        rows, following = await gateway.list_page()
    assert len(rows) == 1 and following is None
    assert local.sleeps.delays == [0.5]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retried_even_for_a_create(local: Local) -> None:
    # Nothing listening: the request never left, so even a create is safe to repeat.
    async with local.gateway(api_base=f"http://127.0.0.1:{closed_port()}") as gateway:
        with pytest.raises(GatewayError) as caught:
            await gateway.create(to=TO, from_=FROM, body="x")
    error = caught.value
    assert not isinstance(error, OutcomeUnknownError)
    assert (error.code, error.http_status, error.retryable) == (None, None, True)
    assert str(error).startswith("Connection failed:")
    assert local.sleeps.delays == [0.5, 1.0, 2.0]


async def test_single_attempt_policy_does_not_retry(local: Local) -> None:
    local.faults.refuse("create")
    async with local.gateway(retry=RetryPolicy(attempts=1)) as gateway:
        with pytest.raises(GatewayError):
            await gateway.create(to=TO, from_=FROM, body="x")
    assert local.sleeps.delays == []


async def test_concurrent_calls_keep_their_own_wire_facts(local: Local, gateway: Gateway) -> None:
    # Each call records its Retry-After in its own task's context: two refused creates
    # wait 3 s each, and the three that were not refused are not slowed by that.
    local.faults.refuse("create", retry_after=3, times=2)
    created = await asyncio.gather(
        *(gateway.create(to=TO, from_=FROM, body=f"c{n}") for n in range(5))
    )
    assert len({c.facts.sid for c in created}) == 5 and len(local.stored()) == 5
    assert local.sleeps.delays == [3.0, 3.0]
