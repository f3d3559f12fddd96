"""Filtering, the detail timeline, triage, rejected callbacks and help, on a store the test
fills with known events (demo traffic off)."""

from __future__ import annotations

import time

from tui.domain.facts import facts_from_callback
from tui.screens.detail import DetailScreen
from tui.screens.rejected import RejectedScreen
from tui.screens.triage import TriageScreen
from tui.store import EventKind, IncomingEvent, SignatureVerdict
from tui.widgets.filter_bar import FilterBar

from .conftest import event, main_screen, message_list, screen_text, sid, wait_for

T0 = float(int(time.time()) - 600)  # recent: triage looks at the last 24 hours


async def fill(app, events: list[IncomingEvent]) -> None:
    store = app.session.store
    for e in events:
        await store.ingest(e)


def sample() -> list[IncomingEvent]:
    """Ten messages: 6 delivered, 2 undelivered 30003 to +44, 1 failed 30007 to +1, 1 sent."""
    out: list[IncomingEvent] = []
    plan = (
        [("delivered", None, "+14155550100")] * 6
        + [("undelivered", "30003", "+447400123456")] * 2
        + [("failed", "30007", "+14155550123"), ("sent", None, "+33612345678")]
    )
    for n, (status, code, to) in enumerate(plan):
        extra = [("To", to), ("From", "+14155550111"), ("Body", f"order {n}")]
        if code:
            extra.append(("ErrorCode", code))
        out.append(event(sid(n + 1), status, T0 + n, extra=extra))
    return out


async def test_filter_queries_narrow_the_list_and_errors_show_inline(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        await fill(app, sample())
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 10, "ten rows")
        await pilot.press("slash")
        bar = app.screen.query_one(FilterBar)
        assert bar.has_class("-open")
        for key in "status:undelivered,failed":
            await pilot.press(key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: listing.window.total == 3, "three problem rows")
        assert all(
            listing.window.row(i).status.value in ("undelivered", "failed") for i in range(3)
        )
        await wait_for(pilot, lambda: "3 messages match" in screen_text(app), "header count")
        # An invalid query is explained in place and changes nothing.
        await pilot.press("slash")
        bar.input.value = "status:deliverd"
        await pilot.press("enter")
        await pilot.pause()
        assert bar.error is not None and "delivered" in bar.error.message
        assert "unknown status" in screen_text(app)
        assert listing.window.total == 3
        # to: prefix, and esc clears the filter.
        bar.input.value = "to:+44"
        await pilot.press("enter")
        await wait_for(pilot, lambda: listing.window.total == 2, "two rows to +44")
        await pilot.press("escape")
        await wait_for(pilot, lambda: listing.window.total == 10, "everything again")


async def test_detail_timeline_marks_an_out_of_order_lifecycle(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        s = sid(99)
        extra = [("To", "+14155550100"), ("From", "+14155550111")]
        await fill(
            app,
            [
                event(s, "queued", T0, extra=extra),
                event(s, "delivered", T0 + 2, extra=extra),
                event(s, "sent", T0 + 3, extra=extra),  # late: must not move it back
            ],
        )
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 1, "the row")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail view")
        detail = app.screen
        await wait_for(pilot, lambda: detail.detail is not None, "the detail to load")
        await pilot.pause()
        text = screen_text(app)
        assert s in text
        assert "out of order" in text
        assert "delivered" in text
        assert detail.detail.message.status.value == "delivered"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main_screen(app), "back to the list")


async def test_triage_counts_and_drill_in(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await fill(app, sample())
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 10, "ten rows")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen), "triage")
        triage = app.screen
        await wait_for(pilot, lambda: triage.report is not None, "the report")
        report = triage.report
        assert [(g.error_code, g.count) for g in report.groups] == [(30003, 2), (30007, 1)]
        await pilot.pause()
        text = screen_text(app)
        assert "30003" in text and "30007" in text and "3 problems" in text
        await pilot.press("enter")  # drill into the top group
        await wait_for(pilot, lambda: app.screen is main_screen(app), "back to the list")
        await wait_for(pilot, lambda: listing.window.total == 2, "the 30003 rows")
        assert {listing.window.row(i).error_code for i in range(2)} == {30003}


async def test_rejected_callbacks_are_explained(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        params = (("MessageSid", sid(5)), ("MessageStatus", "delivered"))
        await app.session.store.ingest(
            IncomingEvent(
                kind=EventKind.CALLBACK,
                facts=facts_from_callback(params),
                params=params,
                received_at=T0,
                signature=SignatureVerdict.INVALID,
                rejected_reason="HMAC-SHA1 signature does not match",
                checked_url="http://127.0.0.1:1337/message-status",
            )
        )
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RejectedScreen), "rejected view")
        screen = app.screen
        await wait_for(pilot, lambda: bool(screen.groups), "the group")
        await pilot.pause()
        text = screen_text(app)
        assert "http://127.0.0.1:1337/message-status" in text
        assert "--public-url" in text
        # Nothing from a rejected request reached the messages table.
        assert await app.session.store.get_message(sid=sid(5)) is None


async def test_help_lists_every_key(make_app) -> None:
    app = make_app()
    # Tall enough for the whole list without scrolling it.
    async with app.run_test(size=(100, 110)) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the main screen")
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        for words in (
            "Filter", "Triage", "Rejected", "Details", "Quit", "Window", "GSM look-alikes",
            "Presenter", "Cancel it", "Resend",
        ):  # fmt: skip
            assert words in text, words
