"""The emulator's fault injection, seen with a plain HTTP client."""

import asyncio
import base64

import aiohttp
import pytest

from tui.emulator.faults import Fault, Faults, Operation
from tui.emulator.model import EmulatedMessage
from tui.emulator.runner import LocalTwilio

from .conftest import FROM, TO, Local


def auth(local: Local) -> dict[str, str]:
    creds = local.credentials
    raw = f"{creds.account_sid}:{creds.auth_token}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def messages_url(local: Local) -> str:
    return f"{local.base_url}/2010-04-01/Accounts/{local.credentials.account_sid}/Messages.json"


FORM = {"To": TO, "From": FROM, "Body": "x"}


async def test_refuse_answers_twilio_shaped_errors_and_changes_nothing(local: Local) -> None:
    local.faults.refuse("create", retry_after=2.5, times=2)
    local.faults.refuse("list", status=503, code=20503, message="Service Unavailable")
    assert local.faults.pending == 3
    async with aiohttp.ClientSession(headers=auth(local)) as http:
        for _ in range(2):
            async with http.post(messages_url(local), data=FORM) as resp:
                body = await resp.json()
                assert resp.status == 429 and resp.headers["Retry-After"] == "3"  # whole seconds
                assert body == {
                    "code": 20429,
                    "message": "Too Many Requests",
                    "more_info": "https://www.twilio.com/docs/errors/20429",
                    "status": 429,
                }
        async with http.get(messages_url(local)) as resp:
            assert resp.status == 503 and (await resp.json())["code"] == 20503
        async with http.post(messages_url(local), data=FORM) as resp:
            assert resp.status == 201  # the rules are used up
    assert len(local.stored()) == 1 and local.faults.pending == 0
    assert [f.operation for f in local.faults.fired] == ["create", "create", "list"]


async def test_fail_after_commit_commits_then_errs(local: Local) -> None:
    local.faults.fail_after_commit("create")
    async with (
        aiohttp.ClientSession(headers=auth(local)) as http,
        http.post(messages_url(local), data=FORM) as resp,
    ):
        assert resp.status == 500 and (await resp.json())["code"] == 20500
    assert len(local.stored()) == 1


async def test_a_request_failing_on_its_own_gets_its_real_error(local: Local) -> None:
    local.faults.fail_after_commit("create")
    async with (
        aiohttp.ClientSession(headers=auth(local)) as http,
        http.post(messages_url(local), data={**FORM, "To": "+1"}) as resp,
    ):
        assert resp.status == 400 and (await resp.json())["code"] == 21211
    assert local.faults.pending == 0 and local.stored() == []


async def test_only_the_named_operation_is_affected(local: Local) -> None:
    local.faults.refuse("delete")
    async with aiohttp.ClientSession(headers=auth(local)) as http:
        async with http.post(messages_url(local), data=FORM) as resp:
            assert resp.status == 201
        async with http.get(messages_url(local)) as resp:
            assert resp.status == 200
        async with http.get(f"{local.base_url}/_emulator/deliveries") as resp:
            assert resp.status == 200
    assert local.faults.pending == 1
    local.faults.clear()
    assert local.faults.pending == 0


async def test_hang_holds_the_committed_answer_until_released(local: Local) -> None:
    committed = asyncio.Event()

    class Tell:  # the emulator's carrier hook: called once the create is committed
        def admit(self, message: EmulatedMessage) -> None:
            committed.set()

        def cancel(self, message: EmulatedMessage) -> None:
            pass

    local.emulator.lifecycle = Tell()
    local.faults.hang_after_commit("create", seconds=60)
    async with aiohttp.ClientSession(headers=auth(local)) as http:
        request = asyncio.ensure_future(http.post(messages_url(local), data=FORM))
        await asyncio.wait_for(committed.wait(), 5)
        assert len(local.stored()) == 1
        done, _ = await asyncio.wait([request], timeout=0.2)
        assert not done  # committed, yet no answer: it is held
        local.faults.release()
        async with await request as resp:
            assert resp.status == 201  # the real answer, late
    assert len(local.stored()) == 1


def test_rules_are_validated() -> None:
    faults = Faults()
    with pytest.raises(ValueError):
        faults.refuse("explode")
    with pytest.raises(ValueError):
        faults.add(Fault(Operation.CREATE, commit=False), times=0)
    assert faults.take(Operation.CREATE) is None


async def test_local_twilio_exposes_its_faults() -> None:
    local = LocalTwilio(speed=1000)
    await local.start()
    try:
        assert local.faults is local.server.faults
        local.faults.hang_after_commit("create", seconds=60)
        creds = local.credentials
        raw = base64.b64encode(f"{creds.account_sid}:{creds.auth_token}".encode()).decode()
        url = f"{local.base_url}/2010-04-01/Accounts/{creds.account_sid}/Messages.json"
        async with aiohttp.ClientSession(headers={"Authorization": f"Basic {raw}"}) as http:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await http.post(url, data=FORM)
    finally:
        started = asyncio.get_running_loop().time()
        await local.stop()  # releases the hang: no 60 s wait
        assert asyncio.get_running_loop().time() - started < 5
