"""The simulated carrier: lifecycles, callbacks signed as Twilio signs them (checked with the
SDK's RequestValidator), connection overrides, scenario faults, replies and STOP."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tui.domain.signature import Algorithm, is_valid
from tui.emulator.runner import LocalTwilio
from tui.emulator.scenarios import PRESETS, Scenario

from .sink import Sink

TO, FROM = "+14155550100", "+14155550111"
MG = "MG" + "b" * 32
FAST = 10_000.0  # speed factor: a scenario's seconds become a tenth of a millisecond


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = await Sink().start()
    try:
        yield s
    finally:
        await s.stop()


class Harness:
    def __init__(self, local: LocalTwilio, client: Client, http: AsyncTwilioHttpClient) -> None:
        self.local, self.client, self.http = local, client, http

    async def send(self, **kwargs: object):  # type: ignore[no-untyped-def]
        return await self.client.messages.create_async(**kwargs)

    async def settle(self) -> None:
        await self.local.carrier.idle()


async def harness(scenario: Scenario, **kwargs: object) -> Harness:
    local = LocalTwilio(scenario=scenario, speed=FAST, seed=1, **kwargs)  # type: ignore[arg-type]
    await local.start()
    http = AsyncTwilioHttpClient()
    client = Client(local.credentials.account_sid, local.credentials.auth_token, http_client=http)
    client.api.base_url = local.base_url
    return Harness(local, client, http)


@pytest.fixture
async def make() -> AsyncIterator:  # type: ignore[type-arg]
    made: list[Harness] = []

    async def factory(scenario: Scenario, **kwargs: object) -> Harness:
        made.append(await harness(scenario, **kwargs))
        return made[-1]

    yield factory
    for h in made:
        await h.http.close()
        await h.local.stop()


def assert_signed_like_twilio(sink: Sink, token: str) -> None:
    validator = RequestValidator(token)
    assert sink.received
    for request in sink.received:
        signature = request.headers["X-Twilio-Signature"]
        assert validator.validate(request.url, request.form, signature), request.url
        assert request.headers["I-Twilio-Idempotency-Token"]


ALWAYS = replace(PRESETS["happy"], delivered=1.0, reply=0.0)


async def test_delivered_lifecycle_and_signed_callbacks(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    h = await make(ALWAYS)
    plain = await h.send(
        to=TO, from_=FROM, body="hi", status_callback=f"{sink.url}/message-status?lid=7"
    )
    service = await h.send(
        to=TO, messaging_service_sid=MG, body="hi", status_callback=f"{sink.url}/message-status"
    )
    await h.settle()
    assert sink.statuses(plain.sid) == ["sent", "delivered"]  # no callback for the initial status
    assert sink.statuses(service.sid) == ["queued", "sent", "delivered"]
    assert_signed_like_twilio(sink, h.local.credentials.auth_token)
    delivered = next(r for r in sink.received if r.get("MessageStatus") == "delivered")
    for name in ("AccountSid", "From", "To", "MessageSid", "SmsSid", "SmsStatus", "ApiVersion"):
        assert delivered.get(name), name
    assert len(delivered.get("RawDlrDoneDate") or "") == 10
    plain_urls = {r.url for r in sink.received if r.get("MessageSid") == plain.sid}
    assert plain_urls == {f"{sink.url}/message-status?lid=7"}  # own query kept, and signed
    fetched = await h.client.messages(plain.sid).fetch_async()
    assert fetched.status == "delivered" and fetched.date_sent is not None
    assert fetched.price is not None and fetched.price.startswith("-")
    queued_service = await h.client.messages(service.sid).fetch_async()
    assert queued_service.from_.startswith("+1415555")  # picked from the service's pool
    assert queued_service.num_segments == "1"


@pytest.mark.parametrize(
    ("failed_share", "final"), [(1.0, "failed"), (0.0, "undelivered")]
)  # fmt: skip
async def test_failures_carry_error_codes(
    make, sink: Sink, failed_share: float, final: str
) -> None:  # type: ignore[no-untyped-def]
    h = await make(replace(ALWAYS, delivered=0.0, failed_share=failed_share))
    m = await h.send(to=TO, from_=FROM, body="x", status_callback=f"{sink.url}/cb")
    await h.settle()
    last = sink.received[-1]
    assert last.get("MessageStatus") == final
    assert int(last.get("ErrorCode") or 0) > 30000
    assert ("RawDlrDoneDate" in last.form) == (final == "undelivered")
    fetched = await h.client.messages(m.sid).fetch_async()
    assert fetched.status == final and fetched.error_code == int(last.form["ErrorCode"])


async def test_whatsapp_read_receipts(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    h = await make(replace(PRESETS["whatsapp"], delivered=1.0, read=1.0, reply=0.0))
    m = await h.send(
        to=f"whatsapp:{TO}", from_=f"whatsapp:{FROM}", body="x", status_callback=f"{sink.url}/cb"
    )
    await h.settle()
    assert sink.statuses(m.sid) == ["sent", "delivered", "read"]
    read = sink.received[-1]
    assert read.get("EventType") == "READ" and read.get("ChannelPrefix") == "whatsapp"
    assert_signed_like_twilio(sink, h.local.credentials.auth_token)


async def test_scheduled_message_waits_for_send_at_then_queues(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    h = await make(ALWAYS)
    soon = datetime.now(UTC) + timedelta(minutes=16)  # 16 min / 10,000 = 0.1 s
    later = await h.send(to=TO, messaging_service_sid=MG, body="y", schedule_type="fixed",
                         send_at=soon, status_callback=f"{sink.url}/cb")  # fmt: skip
    assert later.status == "scheduled"
    await h.settle()
    assert sink.statuses(later.sid) == ["queued", "sent", "delivered"]
    fetched = await h.client.messages(later.sid).fetch_async()
    # Waits are scaled by the speed factor; the clock is not (dates stay real).
    assert fetched.date_sent is not None and fetched.date_sent >= later.date_created


async def test_cancel_callback_arrives(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    h = await make(ALWAYS)
    send_at = datetime.now(UTC) + timedelta(days=30)
    m = await h.send(to=TO, messaging_service_sid=MG, body="x", schedule_type="fixed",
                     send_at=send_at, status_callback=f"{sink.url}/cb")  # fmt: skip
    await h.client.messages(m.sid).update_async(status="canceled")
    for _ in range(200):
        if sink.statuses(m.sid):
            break
        await asyncio.sleep(0.01)
    assert sink.statuses(m.sid) == ["canceled"]
    assert_signed_like_twilio(sink, h.local.credentials.auth_token)


async def test_chaos_reorders_repeats_and_drops(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    h = await make(replace(ALWAYS, out_of_order=1.0))
    m = await h.send(to=TO, from_=FROM, body="x", status_callback=f"{sink.url}/cb")
    await h.settle()
    assert sorted(sink.statuses(m.sid)) == ["delivered", "sent"]
    assert_signed_like_twilio(sink, h.local.credentials.auth_token)

    sink.received.clear()
    h2 = await make(replace(ALWAYS, duplicate=1.0))
    m2 = await h2.send(to=TO, from_=FROM, body="x", status_callback=f"{sink.url}/cb")
    await h2.settle()
    assert sink.statuses(m2.sid) == ["sent", "sent", "delivered", "delivered"]
    tokens = [r.headers["I-Twilio-Idempotency-Token"] for r in sink.received]
    assert tokens[0] == tokens[1] and tokens[2] == tokens[3] and tokens[0] != tokens[2]
    assert_signed_like_twilio(sink, h2.local.credentials.auth_token)

    sink.received.clear()
    h3 = await make(replace(ALWAYS, drop=1.0))
    m3 = await h3.send(to=TO, from_=FROM, body="x", status_callback=f"{sink.url}/cb")
    await h3.settle()
    assert sink.statuses(m3.sid) == []
    assert (await h3.client.messages(m3.sid).fetch_async()).status == "delivered"  # reconcilable
    assert all(d.dropped for d in h3.local.sender.log)


async def test_default_retry_is_once_on_connect_failure_only(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    h = await make(ALWAYS)
    closed = "http://127.0.0.1:9/cb"  # the discard port: nothing listens
    await h.send(to=TO, from_=FROM, body="x", status_callback=closed)
    await h.settle()
    attempts = [d for d in h.local.sender.log if d.url == closed]
    assert [d.attempt for d in attempts] == [1, 2, 1, 2]  # sent + delivered, each tried twice
    assert all(d.error == "connect" for d in attempts)

    sink.status = 500
    await h.send(to=TO, from_=FROM, body="x", status_callback=f"{sink.url}/cb")
    await h.settle()
    assert len(sink.received) == 2  # a 5xx is not retried by default
    sink.received.clear()
    await h.send(to=TO, from_=FROM, body="x", status_callback=f"{sink.url}/cb#rp=5xx&rc=2")
    await h.settle()
    assert len(sink.received) == 6  # 2 callbacks x (1 + 2 retries)
    assert "#" not in sink.received[0].url
    assert_signed_like_twilio(sink, h.local.credentials.auth_token)  # the fragment is unsigned


async def test_replies_stop_and_opt_out(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    h = await make(replace(ALWAYS, reply=1.0, stop_share=1.0), inbound_url=f"{sink.url}/incoming")
    await h.send(to=TO, from_=FROM, body="promo")
    await h.settle()
    (inbound,) = [r for r in sink.received if r.url.endswith("/incoming")]
    assert inbound.get("SmsStatus") == "received" and inbound.get("From") == TO
    assert inbound.get("Body") in ("STOP", "stop", "UNSUBSCRIBE")
    assert_signed_like_twilio(sink, h.local.credentials.auth_token)
    listed = await h.client.messages.list_async(from_=TO)
    assert [m.direction for m in listed] == ["inbound"]
    with pytest.raises(TwilioRestException) as caught:
        await h.send(to=TO, from_=FROM, body="again")
    assert caught.value.code == 21610


async def test_sha256_signing_with_settings_header(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    h = await make(ALWAYS, algorithm=Algorithm.HMAC_SHA256)
    await h.send(to=TO, from_=FROM, body="x", status_callback=f"{sink.url}/cb")
    await h.settle()
    token = h.local.credentials.auth_token
    for r in sink.received:
        assert "HMAC_SHA256" in r.headers["X-Twilio-Webhooks-Signature-Settings"]
        signature = r.headers["X-Twilio-Signature"]
        assert is_valid(r.url, list(r.form.items()), signature, token, Algorithm.HMAC_SHA256)
        assert RequestValidator(token).validate(r.url, r.form, signature, algorithm="HMAC_SHA256")


async def test_deliveries_endpoint(make, sink: Sink) -> None:  # type: ignore[no-untyped-def]
    import aiohttp

    h = await make(ALWAYS)
    await h.send(to=TO, from_=FROM, body="x", status_callback=f"{sink.url}/cb")
    await h.settle()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{h.local.base_url}/_emulator/deliveries") as resp:
            data = await resp.json()
        async with http.get(f"{h.local.base_url}/_emulator/deliveries?after=1") as resp:
            rest = await resp.json()
    assert [d["status"] for d in data["deliveries"]] == [200, 200]
    assert data["deliveries"][0]["latency_ms"] >= 0 and len(rest["deliveries"]) == 1
