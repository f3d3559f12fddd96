"""The callback receiver: signatures, durable acknowledgement, order, duplicates, bad input."""

import asyncio
import itertools
import json
from pathlib import Path

import pytest

from tui.domain.signature import Algorithm, body_sha256, compute_signature
from tui.domain.status import MessageStatus
from tui.server.receiver import Receiver, ReceiverConfig
from tui.server.runner import ReceiverServer, UnsafeBindError
from tui.server.verify import SignatureConfig, checked_url
from tui.store import SignatureVerdict, Store

from .conftest import PUBLIC, TOKEN, Running, sid, start

S = MessageStatus


async def count_messages(store: Store) -> int:
    return sum((await store.count_by_status()).values())


async def test_signed_callback_is_committed_before_200(running: Running) -> None:
    resp = await running.callback(sid(1), "sent")
    assert resp.status == 200
    assert await resp.text() == ""
    # The 200 means committed: a fresh read sees it with no waiting.
    message = await running.store.get_message(sid=sid(1))
    assert message is not None and message.status is S.SENT
    (event,) = await running.store.events_for(message.id)
    assert event.signature is SignatureVerdict.VALID
    assert event.checked_url == PUBLIC + "/message-status"


async def test_query_string_and_lid_are_part_of_the_signed_url(running: Running) -> None:
    path = "/message-status?lid=L42&x=a%20b"
    params = [("MessageSid", sid(2)), ("MessageStatus", "queued")]
    resp = await running.post(path, params)
    assert resp.status == 200
    message = await running.store.get_message(sid=sid(2))
    assert message is not None and message.local_id == "L42"


async def test_port_variants_are_accepted(running: Running) -> None:
    # Twilio's signer is inconsistent about :443; the SDK accepts both forms, so do we.
    params = [("MessageSid", sid(3)), ("MessageStatus", "sent")]
    resp = await running.post("/message-status", params, signed_url=PUBLIC + ":443/message-status")
    assert resp.status == 200


@pytest.mark.parametrize(
    ("headers", "verdict"),
    [({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, "invalid"), ({}, "missing")],
)
async def test_bad_or_missing_signature_is_403_kept_and_never_applied(
    running: Running, headers: dict[str, str], verdict: str
) -> None:
    params = [("MessageSid", sid(4)), ("MessageStatus", "delivered")]
    resp = await running.post("/message-status", params, sign=False, headers=headers)
    assert resp.status == 403
    assert await running.store.get_message(sid=sid(4)) is None
    (kept,) = await running.store.rejected_events()
    assert kept.signature.value == verdict and kept.checked_url == PUBLIC + "/message-status"
    assert kept.rejected_reason
    health = running.receiver.stats.health(True)
    assert health["rejected"] == 1 and health["callbacks_received"] == 0


async def test_signature_for_the_bind_address_is_rejected(running: Running) -> None:
    """The classic tunnel mistake: signed for one URL, checked against another."""
    params = [("MessageSid", sid(5)), ("MessageStatus", "sent")]
    local_url = running.server.base_url + "/message-status"
    resp = await running.post("/message-status", params, signed_url=local_url)
    assert resp.status == 403
    (kept,) = await running.store.rejected_events()
    assert "does not match" in (kept.rejected_reason or "")


async def test_get_callbacks_sign_the_url_only(running: Running) -> None:
    query = f"MessageSid={sid(6)}&MessageStatus=delivered"
    signature = compute_signature(f"{PUBLIC}/message-status?{query}", [], TOKEN)
    async with running.http.get(
        f"{running.server.base_url}/message-status?{query}",
        headers={"X-Twilio-Signature": signature},
    ) as resp:
        assert resp.status == 200
    message = await running.store.get_message(sid=sid(6))
    assert message is not None and message.status is S.DELIVERED


async def test_json_body_with_body_sha256(running: Running) -> None:
    body = json.dumps({"MessageSid": sid(7), "MessageStatus": "sent"}).encode()
    path = f"/message-status?bodySHA256={body_sha256(body)}"
    signature = compute_signature(PUBLIC + path, [], TOKEN)
    headers = {"Content-Type": "application/json", "X-Twilio-Signature": signature}
    async with running.http.post(running.server.base_url + path, data=body, headers=headers) as r:
        assert r.status == 200
    tampered = body.replace(b"sent", b"read")
    async with running.http.post(
        running.server.base_url + path, data=tampered, headers=headers
    ) as r:
        assert r.status == 403
    message = await running.store.get_message(sid=sid(7))
    assert message is not None and message.status is S.SENT


async def test_sha256_with_a_shared_key(tmp_path: Path) -> None:
    r = await start(tmp_path)
    try:
        r.receiver.config = ReceiverConfig(
            SignatureConfig(auth_token=TOKEN, public_url=PUBLIC, shared_key="shh")
        )
        params = [("MessageSid", sid(8)), ("MessageStatus", "sent")]
        signature = compute_signature(
            PUBLIC + "/message-status", params, "shh", Algorithm.HMAC_SHA256
        )
        headers = {
            "X-Twilio-Signature": signature,
            "X-Twilio-Webhooks-Signature-Settings": "key=KEY1,algorithm=HMAC_SHA256",
        }
        resp = await r.post("/message-status", params, sign=False, headers=headers)
        assert resp.status == 200
    finally:
        await r.http.close()
        await r.server.stop()
        await r.store.close()


DELIVERED = [("queued", ()), ("sent", ()), ("delivered", (("RawDlrDoneDate", "2311231530"),))]
UNDELIVERED = [("queued", ()), ("sent", ()), ("undelivered", (("ErrorCode", "30003"),))]


@pytest.mark.parametrize("history", [DELIVERED, UNDELIVERED], ids=["delivered", "undelivered"])
async def test_every_arrival_order_ends_at_the_final_status(
    running: Running, history: list[tuple[str, tuple[tuple[str, str], ...]]]
) -> None:
    final = history[-1][0]
    for n, order in enumerate(itertools.permutations(history)):
        for status, extra in order:
            assert (await running.callback(sid(100 + n), status, *extra)).status == 200
        message = await running.store.get_message(sid=sid(100 + n))
        assert message is not None and message.status is S(final), order
        assert message.error_code == (30003 if final == "undelivered" else None)


async def test_duplicates_are_acknowledged_and_stored_once(running: Running) -> None:
    token = {"I-Twilio-Idempotency-Token": "retry-1"}
    for _ in range(3):
        assert (await running.callback(sid(9), "sent", headers=token)).status == 200
    assert (await running.callback(sid(9), "sent")).status == 200  # same content, no token
    message = await running.store.get_message(sid=sid(9))
    assert message is not None
    assert len(await running.store.events_for(message.id)) == 1


async def test_unknown_status_is_stored_flagged_and_acknowledged(running: Running) -> None:
    assert (await running.callback(sid(10), "sent")).status == 200
    assert (await running.callback(sid(10), "teleported")).status == 200
    message = await running.store.get_message(sid=sid(10))
    assert message is not None and message.status is S.SENT
    events = await running.store.events_for(message.id)
    assert [e.status_known for e in events] == [True, False]


async def post_raw(running: Running, body: bytes, content_type: str, path: str = "/message-status"):  # type: ignore[no-untyped-def]
    async with running.http.post(
        running.server.base_url + path, data=body, headers={"Content-Type": content_type}
    ) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"MessageSid=SMx&MessageStatus=sent", "text/plain", 415),
        (b"", "", 415),
        (b"MessageSid=" + b"a" * 70_000, "application/x-www-form-urlencoded", 413),
        (
            "&".join(f"f{i}=v" for i in range(600)).encode(),
            "application/x-www-form-urlencoded",
            413,
        ),
        (b"MessageSid=%FF%FE&MessageStatus=sent", "application/x-www-form-urlencoded", 400),
        ("MessageSid=SMé".encode(), "application/x-www-form-urlencoded", 400),
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
    ],
)
async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(
    running: Running, body: bytes, content_type: str, status: int
) -> None:
    got, text = await post_raw(running, body, content_type)
    assert got == status and text
    assert await count_messages(running.store) == 0
    assert await running.store.rejected_events() == []


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ([("MessageStatus", "sent")], "MessageSid is missing."),
        ([("MessageSid", "SM1")], "MessageStatus is missing."),
    ],
)
async def test_missing_required_fields_are_400(
    running: Running, params: list[tuple[str, str]], problem: str
) -> None:
    resp = await running.post("/message-status", params)
    assert resp.status == 400
    assert await count_messages(running.store) == 0


async def test_inbound_message_with_media_answers_twiml(running: Running) -> None:
    params = [
        ("MessageSid", "MM" + "c" * 32),
        ("SmsMessageSid", "MM" + "c" * 32),
        ("AccountSid", "AC" + "0" * 32),
        ("From", "+14155550100"),
        ("To", "+14155550111"),
        ("Body", "look <at> this & that"),
        ("NumMedia", "2"),
        ("MediaUrl0", "https://api.twilio.com/media/1"),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl1", "https://api.twilio.com/media/2"),
        ("MediaContentType1", "image/png"),
    ]
    signature = compute_signature(PUBLIC + "/incoming", params, TOKEN)
    async with running.http.post(
        running.server.base_url + "/incoming",
        data=params,
        headers={"X-Twilio-Signature": signature},
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/xml")
        assert await resp.text() == "<Response></Response>"
    message = await running.store.get_message(sid="MM" + "c" * 32)
    assert message is not None
    assert message.direction == "inbound" and message.status is S.RECEIVED
    assert message.body == "look <at> this & that"
    assert await running.store.media_for(message.id) == [
        "https://api.twilio.com/media/1",
        "https://api.twilio.com/media/2",
    ]


async def test_auto_reply_is_escaped_twiml(running: Running) -> None:
    running.receiver.config = ReceiverConfig(running.receiver.config.signature, auto_reply="<b>&")
    params = [("MessageSid", sid(11)), ("Body", "hi")]
    signature = compute_signature(PUBLIC + "/incoming", params, TOKEN)
    async with running.http.post(
        running.server.base_url + "/incoming",
        data=params,
        headers={"X-Twilio-Signature": signature},
    ) as resp:
        assert await resp.text() == "<Response><Message>&lt;b&gt;&amp;</Message></Response>"


async def test_subscribers_get_committed_changes_in_order(running: Running) -> None:
    with running.store.subscribe() as feed:
        for status in ("queued", "sent", "delivered"):
            await running.callback(sid(12), status)
        await running.callback(sid(13), "sent")
        batch = await asyncio.wait_for(feed.next(), 1)
    assert [c.status for c in batch.changes] == [S.DELIVERED, S.SENT]


async def test_storage_failure_answers_500(running: Running) -> None:
    await running.store.close()  # the database is gone: the promise cannot be kept
    resp = await running.callback(sid(14), "sent")
    assert resp.status == 500
    assert running.receiver.stats.storage_errors == 1


async def test_healthz(running: Running) -> None:
    await running.callback(sid(15), "sent")
    async with running.http.get(running.server.base_url + "/healthz") as resp:
        health = await resp.json()
    assert health["callbacks_received"] == 1 and health["rejected"] == 0
    assert health["last_callback_age_s"] is not None and health["validating_signatures"]


async def test_other_paths_and_methods_are_refused_and_store_nothing(running: Running) -> None:
    base = running.server.base_url
    async with running.http.get(base + "/message-status/extra") as resp:
        assert resp.status == 404 and "/message-status" in await resp.text()
    async with running.http.put(base + "/message-status", data=b"MessageSid=x") as resp:
        assert resp.status == 405 and resp.headers["Allow"] == "GET, POST"
    async with running.http.post(base + "/healthz") as resp:
        assert resp.status == 405 and resp.headers["Allow"] == "GET, HEAD"
    async with running.http.head(base + "/healthz") as resp:
        assert resp.status == 200
    async with running.http.get(base + "/healthz") as resp:
        assert (await resp.json())["callbacks_received"] == 0
    assert (await running.store.page()).rows == ()


async def test_validation_off_only_on_loopback(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "m.db")
    try:
        receiver = Receiver(store, ReceiverConfig(SignatureConfig(auth_token=None)))
        with pytest.raises(UnsafeBindError):
            ReceiverServer(receiver, host="0.0.0.0")
        server = ReceiverServer(receiver, host="127.0.0.1", port=0)
        await server.start()
        await server.stop()
    finally:
        await store.close()


def test_checked_url_uses_the_public_origin_and_raw_path() -> None:
    seen = "http://127.0.0.1:1337/message-status?a=1"
    assert checked_url(None, seen, "/message-status?a=1") == seen
    assert checked_url("https://x.ngrok.app", seen, "/message-status?a=1") == (
        "https://x.ngrok.app/message-status?a=1"
    )
    # A proxy that strips a path prefix: the prefix is put back.
    assert checked_url("https://x.io/twilio", seen, "/message-status") == (
        "https://x.io/twilio/message-status"
    )
    assert checked_url("https://x.io/twilio/", seen, "/twilio/message-status") == (
        "https://x.io/twilio/message-status"
    )


# Regressions found by tests/reliability/test_receiver_fuzz.py: each was a 500.


async def test_an_empty_lid_is_no_local_id(running: Running) -> None:
    for n in (1, 2):
        params = [("MessageSid", sid(900 + n)), ("MessageStatus", "sent")]
        response = await running.post(
            "/message-status?lid=", params, signed_url=PUBLIC + "/message-status?lid="
        )
        assert response.status == 200


async def test_a_unicode_digit_media_index_is_just_a_field(running: Running) -> None:
    params = [("MessageSid", sid(903)), ("MessageStatus", "sent"), ("MediaUrl\u00b2", "x")]
    assert (await running.post("/message-status", params)).status == 200
    assert (await running.post("/message-status", params, sign=False)).status == 403
