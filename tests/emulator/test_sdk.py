"""The emulator driven by the official twilio SDK, async and sync clients, unchanged but
for the base URL: what works here works against Twilio."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from .conftest import Running

TO, FROM = "+14155550100", "+14155550111"
MG = "MG" + "a" * 32


async def test_create_fetch_and_resource_shape(client: Client) -> None:
    created = await client.messages.create_async(to=TO, from_=FROM, body="Hello \u2019 there")
    assert created.sid.startswith("SM") and len(created.sid) == 34
    assert created.status == "queued"
    assert created.num_segments == "1" and created.num_media == "0"
    assert created.direction == "outbound-api" and created.api_version == "2010-04-01"
    assert created.date_created.tzinfo is not None  # RFC 2822 parsed by the SDK
    fetched = await client.messages(created.sid).fetch_async()
    assert fetched.body == "Hello \u2019 there" and fetched.to == TO and fetched.from_ == FROM


async def test_initial_status_depends_on_how_it_was_sent(client: Client) -> None:
    with_service = await client.messages.create_async(to=TO, messaging_service_sid=MG, body="x")
    assert with_service.status == "accepted"
    assert with_service.num_segments == "0"  # docs: 0 until a sender is picked
    send_at = datetime.now(UTC) + timedelta(hours=1)
    scheduled = await client.messages.create_async(
        to=TO, messaging_service_sid=MG, body="x", schedule_type="fixed", send_at=send_at
    )
    assert scheduled.status == "scheduled"
    mms = await client.messages.create_async(
        to=TO, from_=FROM, media_url=["https://example.com/a.png", "https://example.com/b.jpg"]
    )
    assert mms.sid.startswith("MM") and mms.num_media == "2"
    media = await client.messages(mms.sid).media.list_async()
    assert [m.content_type for m in media] == ["image/png", "image/jpeg"]


async def test_segments_follow_the_domain_math(client: Client) -> None:
    gsm161 = await client.messages.create_async(to=TO, from_=FROM, body="a" * 161)
    assert gsm161.num_segments == "2"
    ucs = await client.messages.create_async(to=TO, from_=FROM, body="“quoted” " + "a" * 62)
    assert ucs.num_segments == "2"  # 71 UCS-2 units
    smart = await client.messages.create_async(
        to=TO, from_=FROM, body="“quoted” " + "a" * 62, smart_encoded=True
    )
    assert smart.num_segments == "1"  # curly quotes become GSM-7 '"'


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": FROM, "body": "x"}, 21604),
        ({"to": "+1415", "from_": FROM, "body": "x"}, 21211),
        ({"to": TO, "from_": "+1", "body": "x"}, 21212),
        ({"to": TO, "body": "x"}, 21603),
        ({"to": TO, "from_": FROM}, 21602),
        ({"to": TO, "from_": FROM, "body": "x" * 1601}, 21617),
        ({"to": TO, "from_": FROM, "body": "x", "validity_period": 0}, 21624),
        ({"to": TO, "from_": FROM, "body": "x", "validity_period": 36001}, 21624),
        ({"to": TO, "from_": FROM, "body": "x", "status_callback": "ftp://h/cb"}, 21609),
        ({"to": TO, "from_": FROM, "body": "x", "status_callback": "https://a_b.io/cb"}, 21609),
        ({"to": TO, "from_": FROM, "media_url": [f"https://e.com/{i}" for i in range(11)]}, 21623),
        ({"to": TO, "from_": FROM, "body": "x", "schedule_type": "fixed",
          "send_at": datetime.now(UTC) + timedelta(hours=1)}, 35118),
        ({"to": TO, "messaging_service_sid": MG, "body": "x", "schedule_type": "fixed",
          "send_at": datetime.now(UTC) + timedelta(minutes=5)}, 35114),
        ({"to": TO, "messaging_service_sid": MG, "body": "x", "schedule_type": "fixed",
          "send_at": datetime.now(UTC) + timedelta(days=36)}, 35115),
        ({"to": TO, "messaging_service_sid": MG, "body": "x", "schedule_type": "daily",
          "send_at": datetime.now(UTC) + timedelta(hours=1)}, 35126),
    ],
)  # fmt: skip
async def test_create_errors_map_to_twilio_rest_exception(
    client: Client, kwargs: dict, code: int
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(**kwargs)
    assert caught.value.code == code
    assert caught.value.status == 400


async def test_list_pages_through_more_than_two_pages(client: Client) -> None:
    sids = [
        (await client.messages.create_async(to=TO, from_=FROM, body=f"n{i}")).sid for i in range(25)
    ]
    listed = await client.messages.list_async(page_size=10)
    assert [m.sid for m in listed] == list(reversed(sids))  # newest first, 3 pages
    streamed = [m.sid async for m in await client.messages.stream_async(page_size=7)]
    assert streamed == list(reversed(sids))
    page = await client.messages.page_async(page_size=10)
    assert page._payload["next_page_uri"].startswith("/2010-04-01/")  # relative, as Twilio
    other = await client.messages.create_async(to="+14155550199", from_=FROM, body="other")
    only = await client.messages.list_async(to="+14155550199")
    assert [m.sid for m in only] == [other.sid]


async def test_cancel_redact_delete(client: Client) -> None:
    send_at = datetime.now(UTC) + timedelta(hours=2)
    scheduled = await client.messages.create_async(
        to=TO, messaging_service_sid=MG, body="later", schedule_type="fixed", send_at=send_at
    )
    queued = await client.messages.create_async(to=TO, from_=FROM, body="now")
    with pytest.raises(TwilioRestException) as caught:
        await client.messages(queued.sid).update_async(status="canceled")
    assert caught.value.code == 30409
    with pytest.raises(TwilioRestException) as caught:
        await client.messages(queued.sid).delete_async()
    assert caught.value.code == 20009  # still in progress

    canceled = await client.messages(scheduled.sid).update_async(status="canceled")
    assert canceled.status == "canceled"
    redacted = await client.messages(scheduled.sid).update_async(body="")
    assert redacted.body == ""
    assert await client.messages(scheduled.sid).delete_async() is True
    with pytest.raises(TwilioRestException) as caught:
        await client.messages(scheduled.sid).fetch_async()
    assert caught.value.status == 404 and caught.value.code == 20404


async def test_authentication(running: Running) -> None:
    creds = running.credentials
    key_sid, key_secret = next(iter(creds.api_keys.items()))
    good = Client(key_sid, key_secret, account_sid=creds.account_sid)
    good.api.base_url = running.base_url
    bad = running.sync_client(secret="wrong-token")

    def run() -> None:
        assert good.messages.create(to=TO, from_=FROM, body="via API key").status == "queued"
        with pytest.raises(TwilioRestException) as caught:
            bad.messages.create(to=TO, from_=FROM, body="x")
        assert caught.value.status == 401 and caught.value.code == 20003

    await asyncio.to_thread(run)  # the sync client blocks; the emulator runs on this loop


async def test_sync_client_works_too(running: Running) -> None:
    def run() -> list[str]:
        client = running.sync_client()
        for i in range(12):
            client.messages.create(to=TO, from_=FROM, body=f"s{i}")
        return [m.body for m in client.messages.list(page_size=5)]

    bodies = await asyncio.to_thread(run)
    assert bodies == [f"s{i}" for i in reversed(range(12))]


@pytest.mark.parametrize(
    ("from_", "to", "code"),
    [
        ("+15005550001", TO, 21212),
        ("+15005550007", TO, 21606),
        ("+15005550008", TO, 21611),
        ("+14155550111", TO, 21606),  # any other From is not one of "your" numbers
        ("+15005550006", "+15005550001", 21211),
        ("+15005550006", "+15005550002", 21612),
        ("+15005550006", "+15005550003", 21408),
        ("+15005550006", "+15005550004", 21610),
        ("+15005550006", "+15005550009", 21614),
    ],
)
async def test_test_credentials_magic_numbers(
    running: Running, from_: str, to: str, code: int
) -> None:
    creds = running.credentials
    assert creds.test_account_sid and creds.test_auth_token
    client = running.sync_client(creds.test_account_sid, creds.test_auth_token)

    def run() -> None:
        ok = client.messages.create(to=TO, from_="+15005550006", body="magic")
        assert ok.status == "queued"
        with pytest.raises(TwilioRestException) as caught:
            client.messages.create(to=to, from_=from_, body="magic")
        assert caught.value.code == code

    await asyncio.to_thread(run)
