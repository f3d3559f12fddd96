"""Every gateway operation through the official SDK against the emulator over HTTP."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tui.domain.status import MessageStatus
from tui.twilio import Gateway, GatewayError, RemoteMessage

from .conftest import FROM, MG, TO, Local


def as_wire(resource: dict[str, object]) -> dict[str, str]:
    """A JSON resource as (name, text) the way RemoteMessage.params should carry it."""
    return {
        name: json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)
        for name, value in resource.items()
        if value is not None
    }


async def test_create_returns_the_resource_as_twilio_sent_it(
    local: Local, gateway: Gateway
) -> None:
    created = await gateway.create(to=TO, from_=FROM, body="Hello \u2019 there")
    facts = created.facts
    assert facts.sid is not None and facts.sid.startswith("SM")
    assert facts.status is MessageStatus.QUEUED and facts.status_raw == "queued"
    assert (facts.to_addr, facts.from_addr, facts.body) == (TO, FROM, "Hello \u2019 there")
    assert facts.num_segments == 1 and facts.num_media == 0  # strings on the wire
    assert facts.direction == "outbound-api" and facts.account_sid == local.credentials.account_sid
    assert facts.date_created is not None and facts.date_created.tzinfo is not None
    # params: exactly the JSON fields, by their JSON names, nulls left out.
    resource = local.emulator.fetch(local.credentials.account_sid, facts.sid).to_resource()
    assert dict(created.params) == as_wire(resource)
    assert len(dict(created.params)) == len(created.params)  # no name twice
    assert created.media_urls == ()
    assert local.stored() == [facts.sid]


async def test_create_passes_every_option(local: Local, gateway: Gateway) -> None:
    created = await gateway.create(
        to=TO,
        from_=FROM,
        media_urls=["https://example.com/a.png", "https://example.com/b.jpg"],
        status_callback="https://cb.example.com/status?local_id=42",
        validity_period=600,
        smart_encoded=True,
        body="\u201cquoted\u201d " + "a" * 62,
    )
    assert created.facts.sid is not None and created.facts.sid.startswith("MM")
    assert created.facts.num_media == 2
    assert created.facts.num_segments == 1  # smart encoding made it GSM-7
    stored = local.emulator.fetch(local.credentials.account_sid, created.facts.sid)
    assert stored.media_urls == ("https://example.com/a.png", "https://example.com/b.jpg")
    assert stored.status_callback == "https://cb.example.com/status?local_id=42"
    assert stored.validity_period == 600


async def test_scheduling_sends_the_instant_in_utc(local: Local, gateway: Gateway) -> None:
    # 14:00 at +05:00 is 09:00 UTC; the SDK alone would send "14:00Z", five hours late.
    plus_five = timezone(timedelta(hours=5))
    send_at = (datetime.now(plus_five) + timedelta(hours=2)).replace(microsecond=0)
    created = await gateway.create(to=TO, messaging_service_sid=MG, body="later", send_at=send_at)
    assert created.facts.status is MessageStatus.SCHEDULED
    assert created.facts.sid is not None
    stored = local.emulator.fetch(local.credentials.account_sid, created.facts.sid)
    assert stored.send_at == send_at.astimezone(UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        await gateway.create(
            to=TO, messaging_service_sid=MG, body="x", send_at=datetime(2030, 1, 1, 12)
        )
    assert len(local.stored()) == 1  # the naive one never left


async def test_fetch_cancel_redact_delete(local: Local, gateway: Gateway) -> None:
    send_at = datetime.now(UTC) + timedelta(hours=2)
    scheduled = await gateway.create(
        to=TO, messaging_service_sid=MG, body="s3cret", send_at=send_at
    )
    sid = scheduled.facts.sid
    assert sid is not None

    fetched = await gateway.fetch(sid)
    assert isinstance(fetched, RemoteMessage)
    assert fetched.facts.sid == sid and fetched.facts.body == "s3cret"

    canceled = await gateway.cancel(sid)
    assert canceled.facts.status is MessageStatus.CANCELED
    redacted = await gateway.redact(sid)
    assert redacted.facts.body == "" and ("body", "") in redacted.params
    assert local.emulator.fetch(local.credentials.account_sid, sid).body == ""

    assert await gateway.delete(sid) is None
    assert local.stored() == []
    with pytest.raises(GatewayError) as caught:
        await gateway.fetch(sid)
    assert (caught.value.code, caught.value.http_status) == (20404, 404)
    assert caught.value.retryable is False


async def test_api_key_credentials(local: Local) -> None:
    creds = local.credentials
    key_sid, key_secret = next(iter(creds.api_keys.items()))
    gateway = Gateway(creds.account_sid, key_sid, key_secret, api_base=local.base_url, timeout=2)
    async with gateway:
        created = await gateway.create(to=TO, from_=FROM, body="via an API key")
    assert created.facts.account_sid == creds.account_sid


async def test_lifecycle(local: Local) -> None:
    gateway = local.gateway()
    with pytest.raises(RuntimeError, match="start"):
        await gateway.fetch("SM" + "0" * 32)
    await gateway.start()
    await gateway.start()  # idempotent: one client, one session
    http = gateway._http
    await gateway.create(to=TO, from_=FROM, body="x")
    await gateway.close()
    assert http.session.closed
    await gateway.close()  # idempotent too
    with pytest.raises(RuntimeError):
        await gateway.create(to=TO, from_=FROM, body="x")


def test_constructor_refuses_missing_credentials() -> None:
    # The SDK would silently fall back to TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN.
    with pytest.raises(ValueError):
        Gateway("AC" + "0" * 32, "AC" + "0" * 32, "")
    with pytest.raises(ValueError):
        Gateway("AC" + "0" * 32, "AC" + "0" * 32, "token", timeout=0)


def test_default_base_is_twilio() -> None:
    gateway = Gateway("AC" + "0" * 32, "AC" + "0" * 32, "token")
    assert gateway.api_base == "https://api.twilio.com"
    assert Gateway("AC1", "AC1", "t", api_base="http://127.0.0.1:9/").api_base == (
        "http://127.0.0.1:9"
    )
