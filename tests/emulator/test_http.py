"""The emulator over plain HTTP: the seed's curl example, error shapes, 406 for XML, 429."""

import asyncio
import base64
import json
import shutil

import aiohttp
import pytest

from tui.emulator.accounts import Credentials
from tui.emulator.emulator import Emulator
from tui.emulator.runner import EmulatorServer

from .conftest import Running


def basic(creds: Credentials) -> dict[str, str]:
    token = base64.b64encode(f"{creds.account_sid}:{creds.auth_token}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# The seed documents' sample response to their curl example (000_*.txt), minus values
# that are the example's own (sid, dates, and its To/From, which differ from its request).
SEED_RESPONSE_FIELDS = {
    "date_sent": None,
    "status": "queued",
    "num_segments": "1",
    "num_media": "0",
    "direction": "outbound-api",
    "api_version": "2010-04-01",
    "price": None,
    "price_unit": "USD",
    "error_code": None,
    "error_message": None,
}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_seed_curl_example(running: Running) -> None:
    creds = running.credentials
    url = f"{running.base_url}/2010-04-01/Accounts/{creds.account_sid}/Messages.json"
    # Exactly the seed's command, with the host and credentials replaced.
    proc = await asyncio.create_subprocess_exec(
        "curl", "-s", "-X", "POST", url,
        "--data-urlencode", "To=+15558675309",
        "--data-urlencode", "From=+15017250604",
        "--data-urlencode", "Body=McAvoy or Stewart? These timelines can get so confusing.",
        "--data-urlencode", "StatusCallback=http://requestb.in/1234abcd",
        "-u", f"{creds.account_sid}:{creds.auth_token}",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    reply = json.loads(out)
    for key, value in SEED_RESPONSE_FIELDS.items():
        assert reply[key] == value, key
    assert reply["account_sid"] == creds.account_sid
    assert reply["to"] == "+15558675309" and reply["from"] == "+15017250604"
    assert reply["body"] == "McAvoy or Stewart? These timelines can get so confusing."
    assert reply["sid"].startswith("SM")
    assert reply["uri"] == f"/2010-04-01/Accounts/{creds.account_sid}/Messages/{reply['sid']}.json"
    assert reply["date_created"].endswith("+0000") and reply["date_created"][3:5] == ", "


async def test_xml_is_not_acceptable_and_errors_are_json(running: Running) -> None:
    creds = running.credentials
    base = f"{running.base_url}/2010-04-01/Accounts/{creds.account_sid}"
    async with aiohttp.ClientSession(headers=basic(creds)) as http:
        async with http.get(f"{base}/Messages.xml") as resp:
            assert resp.status == 406
        async with http.get(f"{base}/Nope.json") as resp:
            body = await resp.json()
            assert resp.status == 404 and body["code"] == 20404
            assert set(body) == {"code", "message", "more_info", "status"}
        async with http.get(f"{base}/Messages.json", params={"PageSize": "1001"}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 20007
    async with aiohttp.ClientSession() as http, http.get(f"{base}/Messages.json") as resp:
        assert resp.status == 401 and (await resp.json())["code"] == 20003


async def test_rate_limit_answers_429_20429() -> None:
    creds = Credentials.generate()
    server = EmulatorServer(Emulator(creds, rate_limit_per_sender=2))
    base = await server.start()
    url = f"{base}/2010-04-01/Accounts/{creds.account_sid}/Messages.json"
    form = {"To": "+14155550100", "From": "+14155550111", "Body": "x"}
    try:
        async with aiohttp.ClientSession(headers=basic(creds)) as http:
            statuses = []
            for _ in range(5):
                async with http.post(url, data=form) as resp:
                    statuses.append(resp.status)
                    if resp.status == 429:
                        assert (await resp.json())["code"] == 20429
            other = {**form, "From": "+14155550122"}  # the limit is per sender
            async with http.post(url, data=other) as resp:
                assert resp.status == 201
    finally:
        await server.stop()
    assert statuses[:2] == [201, 201] and 429 in statuses


async def test_bugs_schemathesis_found_stay_fixed(running: Running) -> None:
    creds = running.credentials
    base = f"{running.base_url}/2010-04-01/Accounts/{creds.account_sid}"
    async with aiohttp.ClientSession(headers=basic(creds)) as http:
        # A multipart body without a boundary was a 500; it is the client's mistake.
        async with http.post(
            f"{base}/Messages.json",
            data=b"To=%2B14155550100&From=%2B14155550111&Body=hi",
            headers={"Content-Type": "multipart/form-data"},
        ) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 20001
        # 405 must say what is allowed (RFC 9110).
        async with http.put(f"{base}/Messages.json") as resp:
            assert resp.status == 405 and "POST" in resp.headers["Allow"]
        # A bad date is refused even when there is nothing to compare it with.
        async with http.get(f"{base}/Messages.json", params={"DateSent": "garbage"}) as resp:
            assert resp.status == 400
        # Repeated parameters: the first value counts, as in the create form.
        async with http.get(f"{base}/Messages.json?Page=abc&Page=") as resp:
            assert resp.status == 400
        created = await (
            await http.post(
                f"{base}/Messages.json",
                data={"To": "+14155550100", "From": "+14155550111", "MediaUrl": "https://e.com/a"},
            )
        ).json()
        media = f"{base}/Messages/{created['sid']}/Media.json"
        async with http.get(media, params={"PageSize": "-5"}) as resp:
            assert resp.status == 400
        async with http.get(media, params={"PageSize": "1"}) as resp:
            page = await resp.json()
            assert page["page_size"] == 1 and len(page["media_list"]) == 1
