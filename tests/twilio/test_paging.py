"""Listing: one page at a time, newest first, and paging that stays on the override host
(also when TWILIO_REGION / TWILIO_EDGE are set)."""

import os
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from twilio.rest import Client

from tui.twilio import Gateway

from .conftest import FROM, TO, Local


async def create_many(gateway: Gateway, count: int, to: str = TO) -> list[str]:
    sids = []
    for n in range(count):
        sid = (await gateway.create(to=to, from_=FROM, body=f"n{n}")).facts.sid
        assert sid is not None
        sids.append(sid)
    return sids


async def list_all(gateway: Gateway, **filters: object) -> tuple[list[str], list[str]]:
    """Every SID, page by page, and the page URLs followed."""
    rows, following = await gateway.list_page(**filters)  # type: ignore[arg-type]
    sids = [r.facts.sid or "" for r in rows]
    urls = []
    while following is not None:
        urls.append(following)
        rows, following = await gateway.list_page(page_url=following)
        sids += [r.facts.sid or "" for r in rows]
    return sids, urls


async def test_pages_are_newest_first_and_follow_the_override(
    local: Local, gateway: Gateway
) -> None:
    sids = await create_many(gateway, 7)
    first, following = await gateway.list_page(page_size=3)
    assert [m.facts.sid for m in first] == sids[::-1][:3]
    assert following is not None and following.startswith(local.base_url + "/2010-04-01/")
    listed, urls = await list_all(gateway, page_size=3)
    assert listed == sids[::-1]
    assert len(urls) == 2  # 3 + 3 + 1


async def test_a_stored_page_url_continues_on_this_gateways_host(
    local: Local, gateway: Gateway
) -> None:
    sids = await create_many(gateway, 5)
    _, following = await gateway.list_page(page_size=2)
    assert following is not None
    # A URL saved by an earlier run: the real API, or the emulator on another port.
    parts = urlsplit(following)
    for host in ("https://api.twilio.com", "http://127.0.0.1:1"):
        rows, _ = await gateway.list_page(page_url=f"{host}{parts.path}?{parts.query}")
        assert [r.facts.sid for r in rows] == sids[::-1][2:4]
    with pytest.raises(ValueError):
        await gateway.list_page(page_url="https://evil.example.com/steal?x=1")
    other = "AC" + "f" * 32
    with pytest.raises(ValueError):
        await gateway.list_page(
            page_url=f"{local.base_url}/2010-04-01/Accounts/{other}/Messages.json"
        )


async def test_filters(local: Local, gateway: Gateway) -> None:
    mine = await create_many(gateway, 3, to="+14155550199")
    await create_many(gateway, 2)
    listed, _ = await list_all(gateway, to="+14155550199", page_size=2)
    assert listed == mine[::-1]  # the filter survives into the next page's URL
    # DateSent is by GMT day; a time given in another zone must be converted first.
    account = local.credentials.account_sid
    for sid, day in zip(mine, (1, 2, 3), strict=True):
        local.emulator.fetch(account, sid).date_sent = datetime(2025, 7, day, 23, tzinfo=UTC)
    # 01:00 on July 3rd at +05:00 is 20:00 on July 2nd GMT: July 2nd and later.
    after = datetime(2025, 7, 3, 1, tzinfo=timezone(timedelta(hours=5)))
    rows, _ = await gateway.list_page(date_sent_after=after)
    assert [r.facts.sid for r in rows] == [mine[2], mine[1]]
    rows, _ = await gateway.list_page(date_sent_before=datetime(2025, 7, 1, 23, tzinfo=UTC))
    assert [r.facts.sid for r in rows] == [mine[0]]
    with pytest.raises(ValueError, match="timezone-aware"):
        await gateway.list_page(date_sent_after=datetime(2025, 7, 1))
    with pytest.raises(ValueError):
        await gateway.list_page(page_size=1001)  # Twilio's limit: 20007 otherwise


async def test_region_and_edge_have_no_effect_with_an_override(
    local: Local, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    # The control: the bare SDK would really send these requests elsewhere.
    bare = Client("AC" + "0" * 32, "token")
    assert bare.get_hostname(local.base_url + "/x") != local.base_url + "/x"
    before = dict(os.environ)
    async with local.gateway() as gateway:
        sids = await create_many(gateway, 3)
        assert (await gateway.fetch(sids[0])).facts.sid == sids[0]
        listed, urls = await list_all(gateway, page_size=2)
    assert listed == sids[::-1]
    assert all(url.startswith(local.base_url) for url in urls)
    assert dict(os.environ) == before  # neutralised on the client, not in the environment
