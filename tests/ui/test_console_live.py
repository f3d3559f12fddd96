"""The console in demo mode: rows appear and move, a callback changes the right row, the
header tells the truth about the receiver."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp

from tui.domain.signature import compute_signature
from tui.domain.status import MessageStatus, is_terminal
from tui.services.lifecycle import Draft

from .conftest import main_screen, message_list, screen_text, wait_for


async def test_demo_traffic_appears_and_reaches_final_statuses(make_app) -> None:
    app = make_app(traffic=True)
    async with app.run_test(size=(100, 30)) as pilot:
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total >= 3, "three demo messages")

        def a_final_status_painted() -> bool:
            # The first final status may be any of them (a demo message can fail, or be
            # inbound), and the frame that paints it comes after the model has it.
            finals = {
                row.status
                for i in range(min(listing.window.total, 20))
                if (row := listing.window.row(i)) is not None and is_terminal(row.status)
            }
            text = screen_text(app)
            return any(re.search(rf"\b{status}\b", text) for status in finals)

        await wait_for(pilot, a_final_status_painted, "a final status on the screen")
        text = screen_text(app)
        assert " DEMO " in text and "statuses by callback" in text
        assert "receiving" in text


async def test_a_signed_callback_changes_the_right_row(make_app) -> None:
    app = make_app(speed=0.001)  # the carrier moves nothing while the test runs
    async with app.run_test(size=(110, 30)) as pilot:
        session = app.session
        assert session.lifecycle is not None and session.local is not None
        await session.lifecycle.send(Draft(to="+14155550100", from_="+14155550111", body="first"))
        second = await session.lifecycle.send(
            Draft(to="+33612345678", from_="+14155550111", body="second")
        )
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 2, "both rows")
        url = f"{session.server.base_url}/message-status"
        params = [
            ("MessageSid", second.sid or ""),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30003"),
            ("AccountSid", session.local.credentials.account_sid),
        ]
        signature = compute_signature(url, params, session.local.credentials.auth_token)
        async with aiohttp.ClientSession() as http:
            response = await http.post(url, data=params, headers={"X-Twilio-Signature": signature})
            assert response.status == 200

        def second_row_undelivered() -> bool:
            position = listing.window.position_of(second.message_id)
            row = listing.window.row(position) if position is not None else None
            return row is not None and row.status is MessageStatus.UNDELIVERED

        await wait_for(pilot, second_row_undelivered, "the second row to show undelivered")
        await pilot.pause()
        lines = listing.rendered_text()
        second_line = next(line for line in lines if "second" in line)
        first_line = next(line for line in lines if "first" in line)
        assert "undelivered" in second_line and "30003" in second_line
        assert "undelivered" not in first_line


async def test_header_counts_follow_the_rows(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        session = app.session
        assert session.lifecycle is not None
        for n in range(3):
            await session.lifecycle.send(
                Draft(to="+14155550100", from_="+14155550111", body=f"m{n}")
            )
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 3, "three rows")
        await wait_for(pilot, lambda: "3 messages" in screen_text(app), "the header to count three")
        assert main_screen(app).query_text == ""


async def test_a_slow_count_does_not_leave_the_header_counting(make_app) -> None:
    # A count is repeated less often the longer it took (10x its time). A reset after a
    # slow one (new rows re-anchoring the list) must still be counted about a second later,
    # not after those 10x: the header says "counting…" until then.
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        store = app.session.store
        assert store is not None and app.session.lifecycle is not None
        listing = message_list(app)
        count_snapshot = store.count_snapshot
        slow = [3.0]  # the first count after the patch takes 3 s: 30 s before the next
        slow_done = asyncio.Event()

        async def slow_then_quick(*args: object, **kwargs: object) -> object:
            if not slow:
                return await count_snapshot(*args, **kwargs)  # type: ignore[arg-type]
            await asyncio.sleep(slow.pop())
            try:
                return await count_snapshot(*args, **kwargs)  # type: ignore[arg-type]
            finally:
                slow_done.set()

        store.count_snapshot = slow_then_quick  # type: ignore[method-assign]
        await wait_for(pilot, slow_done.is_set, "a slow count")
        for n in range(3):
            await app.session.lifecycle.send(
                Draft(to="+14155550100", from_="+14155550111", body=f"m{n}")
            )
        await wait_for(pilot, lambda: listing.window.total == 3, "three rows")
        counted_by = time.monotonic() + 10  # well under the 30 s the slow count would ask
        await wait_for(pilot, lambda: "3 messages" in screen_text(app), "the header to count")
        assert time.monotonic() < counted_by
