"""The password (auth token or API key secret) never shows: not in repr, not in logs."""

import base64
import logging

import pytest

from tui.twilio import GatewayError

from .conftest import FROM, TO, Local


async def test_password_is_never_shown(local: Local, caplog: pytest.LogCaptureFixture) -> None:
    token = local.credentials.auth_token
    basic = base64.b64encode(f"{local.credentials.account_sid}:{token}".encode()).decode()
    gateway = local.gateway()
    assert token not in repr(gateway) and "***" in repr(gateway)
    local.faults.refuse("create", times=2)  # retries log
    with caplog.at_level(logging.DEBUG):  # every logger: ours, the SDK's, aiohttp's
        async with gateway:
            assert token not in repr(gateway)
            created = await gateway.create(to=TO, from_=FROM, body="x")
            local.faults.fail_after_commit("create")  # outcome unknown logs a warning
            with pytest.raises(GatewayError) as caught:
                await gateway.create(to=TO, from_=FROM, body="x")
            with pytest.raises(GatewayError):
                await gateway.create(to="+1", from_=FROM, body="x")
            assert created.facts.sid is not None
            await gateway.fetch(created.facts.sid)
    assert token not in str(caught.value) and token not in repr(caught.value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "retry 1 of 3" in logged and "outcome unknown" in logged  # the test saw logs
    assert token not in logged and basic not in logged
