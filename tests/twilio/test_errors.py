"""Twilio's error answers become GatewayErrors with the catalog's explanation."""

import pytest

from tui.domain.errors import explain
from tui.twilio import Gateway, GatewayError, OutcomeUnknownError

from .conftest import FROM, MG, TO, Local


async def test_invalid_to_is_21211_explained_and_not_retried(
    local: Local, gateway: Gateway
) -> None:
    with pytest.raises(GatewayError) as caught:
        await gateway.create(to="+1415", from_=FROM, body="x")
    error = caught.value
    assert not isinstance(error, OutcomeUnknownError)
    assert (error.code, error.http_status) == (21211, 400)
    assert error.message == "The 'To' number +1415 is not a valid phone number."  # no SDK prefix
    info = explain(21211)
    assert info is not None and error.explanation == info.explanation
    assert error.retryable is False
    assert str(error) == "21211 (HTTP 400): The 'To' number +1415 is not a valid phone number."
    assert local.sleeps.delays == [] and local.stored() == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": TO, "from_": FROM}, 21602),  # no body, no media
        ({"to": TO, "body": "x"}, 21603),  # no From, no service
        ({"to": TO, "from_": FROM, "body": "x" * 1601}, 21617),
        ({"to": TO, "from_": FROM, "body": "x", "validity_period": 0}, 21624),
        ({"to": TO, "messaging_service_sid": MG, "body": "x", "smart_encoded": False}, None),
    ],
)
async def test_create_errors_keep_their_code(
    gateway: Gateway, kwargs: dict[str, object], code: int | None
) -> None:
    if code is None:  # the control case: the same call shape succeeds
        assert (await gateway.create(**kwargs)).facts.sid is not None  # type: ignore[arg-type]
        return
    with pytest.raises(GatewayError) as caught:
        await gateway.create(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code and caught.value.http_status == 400


async def test_state_conflicts_are_errors_not_retries(local: Local, gateway: Gateway) -> None:
    queued = await gateway.create(to=TO, from_=FROM, body="now")
    assert queued.facts.sid is not None
    with pytest.raises(GatewayError) as caught:
        await gateway.cancel(queued.facts.sid)
    assert caught.value.code == 30409
    with pytest.raises(GatewayError) as caught:
        await gateway.delete(queued.facts.sid)
    assert caught.value.code == 20009
    assert local.sleeps.delays == []


async def test_wrong_credentials_are_20003(local: Local) -> None:
    creds = local.credentials
    gateway = Gateway(creds.account_sid, creds.account_sid, "wrong", api_base=local.base_url)
    async with gateway:
        with pytest.raises(GatewayError) as caught:
            await gateway.list_page()
    assert (caught.value.code, caught.value.http_status) == (20003, 401)  # from a list page too
    assert caught.value.retryable is False


def test_error_lines() -> None:
    assert str(GatewayError("Too Many Requests", code=20429, http_status=429)) == (
        "20429 (HTTP 429): Too Many Requests"
    )
    assert GatewayError("Too Many Requests", code=20429).retryable is True  # the catalog's
    assert str(GatewayError("Bad Gateway", http_status=502)) == "HTTP 502: Bad Gateway"
    transport = GatewayError("Connection failed: refused\nsecond line", retryable=True)
    assert str(transport) == "Connection failed: refused second line"
    assert transport.code is None and transport.explanation is None
    unknown = OutcomeUnknownError("lost", http_status=500)
    assert unknown.retryable is False and isinstance(unknown, GatewayError)
    explicit = GatewayError("gone", explanation="my words", retryable=True)
    assert (explicit.explanation, explicit.retryable) == ("my words", True)
