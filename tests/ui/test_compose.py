"""The compose pane in demo mode: the live counter, scheduling rules, sending, Twilio's
refusals shown next to their field, and the row actions that change what was sent."""

from __future__ import annotations

from textual.widgets import Input

from tui.domain.status import MessageStatus
from tui.screens.modals import ChoiceScreen
from tui.screens.scheduled import ScheduledScreen
from tui.services.demo_traffic import DEMO_SERVICE
from tui.widgets.compose_pane import ComposePane

from .conftest import main_screen, message_list, screen_text, wait_for

SIZE = (140, 44)  # wide enough for the pane to be open from the start
TO = "+447400123456"


async def ready(pilot, app) -> ComposePane:
    """The pane once the main screen has mounted it (after the list's first page)."""
    await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the main screen")
    main = main_screen(app)
    await wait_for(pilot, main.compose_ready.is_set, "the compose pane")
    return main.compose_pane


def note(pane: ComposePane, field: str) -> str:
    widget = pane.query_one(f"#note-{field}")
    return "" if widget.has_class("-empty") else str(widget.render())


def counter(pane: ComposePane) -> str:
    return str(pane.query_one("#compose-counter").render())


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press(char if char != " " else "space")


async def fill(pilot, pane: ComposePane, to: str, body: str, sender: str | None = None) -> None:
    pane.query_one("#compose-to", Input).focus()
    await type_text(pilot, to)
    if sender is not None:
        pane.query_one("#compose-from", Input).value = sender
    pane.body_area.focus()
    await type_text(pilot, body)
    await pilot.pause()


async def send_and_wait_for_sid(pilot, app):  # type: ignore[no-untyped-def]
    """ctrl+s, then the list once its one row has Twilio's SID."""
    await pilot.press("ctrl+s")
    listing = message_list(app)
    await wait_for(
        pilot,
        lambda: listing.window.total == 1 and listing.window.row(0).sid is not None,
        "the sent row",
    )
    return listing


async def test_the_counter_follows_gsm_extension_and_emoji_bodies(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        assert not pane.has_class("-hidden")
        await pilot.press("c")
        await type_text(pilot, TO)
        await wait_for(pilot, lambda: "United Kingdom" in note(pane, "To"), "the region")
        pane.body_area.focus()
        await type_text(pilot, "Hello there")
        await wait_for(pilot, lambda: "GSM-7 · 1 segment · 149 left" in counter(pane), "GSM")
        # Extension characters cost two septets each: 11 + 2 = 13 used.
        pane.body_area.insert("€")
        await wait_for(pilot, lambda: "GSM-7 · 1 segment · 147 left" in counter(pane), "ext")
        # One emoji forces UCS-2 for the whole body: 13 code points, 14 UTF-16 units.
        pane.body_area.insert("😀")
        await wait_for(pilot, lambda: "UCS-2 · 1 segment · 56 left" in counter(pane), "UCS-2")
        assert "because of" in counter(pane) and "😀" in counter(pane)


async def test_gsm_look_alikes_replace_curly_quotes(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        pane.body_area.focus()
        pane.body_area.insert("It\u2019s \u201cdone\u201d \u2014 ok")
        await wait_for(pilot, lambda: "UCS-2" in counter(pane), "UCS-2 from curly quotes")
        assert "ctrl+g" in counter(pane)
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: "GSM-7" in counter(pane), "GSM-7 after replacing")
        assert pane.body_area.text == 'It\'s "done" - ok'


async def test_send_shows_the_row_and_it_reaches_delivered(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        await fill(pilot, pane, TO, "Your code is 1234")
        await pilot.press("ctrl+s")
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 1, "the new row")
        await wait_for(pilot, lambda: "✓ SM" in str(pane.query_one("#compose-result").render()),
                       "the SID in the pane")  # fmt: skip
        await wait_for(
            pilot,
            lambda: listing.window.row(0).status is MessageStatus.DELIVERED,
            "delivered",
        )
        # The frame that paints it follows the model.
        await wait_for(pilot, lambda: "delivered" in screen_text(app), "delivered on screen")
        assert pane.body_area.text == ""  # ready for the next one


async def test_scheduling_needs_a_messaging_service(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        await fill(pilot, pane, TO, "Reminder")
        await pilot.press("ctrl+t")
        await type_text(pilot, "in 20m")
        await wait_for(pilot, lambda: "Messaging Service" in note(pane, "SendAt"), "35118")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert message_list(app).window.total == 0  # refused before any request
        assert "35118" in str(pane.query_one("#compose-result").render())
        # With the demo's Messaging Service as From, the note resolves the time instead.
        pane.query_one("#compose-from", Input).value = DEMO_SERVICE
        await wait_for(pilot, lambda: "UTC" in note(pane, "SendAt"), "the resolved time")
        assert "in 20 min" in note(pane, "SendAt")
        await pilot.press("ctrl+s")
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 1, "the scheduled row")
        await wait_for(
            pilot,
            lambda: listing.window.row(0).status is MessageStatus.SCHEDULED,
            "status scheduled",
        )


async def test_a_scheduled_message_is_canceled_from_the_scheduled_view(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        await fill(pilot, pane, TO, "Later", sender=DEMO_SERVICE)
        await pilot.press("ctrl+t")
        await type_text(pilot, "tomorrow 10:00")
        await pilot.press("ctrl+s")
        listing = message_list(app)
        await wait_for(
            pilot,
            lambda: (
                listing.window.total == 1
                and listing.window.row(0).status is MessageStatus.SCHEDULED
            ),
            "scheduled",
        )
        listing.focus()
        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ScheduledScreen) and len(app.screen.rows) == 1,
            "the scheduled view",
        )
        await wait_for(pilot, lambda: "in " in screen_text(app), "the countdown")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the question")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: listing.window.row(0).status is MessageStatus.CANCELED,
            "canceled",
        )
        await wait_for(pilot, lambda: not app.screen.rows, "the view to empty")


async def test_an_opted_out_recipient_is_explained_next_to_to(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        local = app.session.local
        assert local is not None
        local.emulator.opt_out(TO, "+14155550111")
        await fill(pilot, pane, TO, "Hello again")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "21610" in note(pane, "To"), "21610 under To")
        result = str(pane.query_one("#compose-result").render())
        assert "What to do" in result  # explained from the catalog
        listing = message_list(app)
        await wait_for(pilot, lambda: listing.window.total == 1, "the refused row")
        assert listing.window.row(0).status is MessageStatus.FAILED


async def test_redact_blanks_the_body_after_asking(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        await fill(pilot, pane, TO, "secret 4321")
        listing = await send_and_wait_for_sid(pilot, app)
        listing.focus()
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the question")
        await pilot.press("y")
        store = app.session.store
        message_id = listing.window.row(0).id

        async def body() -> str | None:
            message = await store.get_message(id=message_id)
            return message.body if message else None

        for _ in range(200):
            if not await body():
                break
            await pilot.pause(0.05)
        assert not await body()
        await wait_for(pilot, lambda: "secret 4321" not in screen_text(app), "the body gone")


async def test_bulk_send_of_50_with_progress_and_summary(make_app) -> None:
    from textual.widgets import ProgressBar, TextArea

    from tui.screens.bulk import BulkScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        await fill(pilot, pane, TO, "Service update: all good")
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkScreen), "the bulk screen")
        bulk = app.screen
        recipients = [f"+4474001230{n:02d}" for n in range(50)]
        # As pasted: mixed separators, a repeat and a line that is not a number.
        pasted = "\n".join(recipients[:25]) + "\n" + ", ".join(recipients[25:])
        bulk.query_one("#bulk-recipients", TextArea).load_text(pasted + f"\n{TO}\nnot-a-number")
        await wait_for(
            pilot, lambda: not bulk.parsing and bulk.recipients.valid, "the list checked"
        )
        assert len(bulk.recipients.valid) == 51 and len(bulk.recipients.invalid) == 1
        parsed = str(bulk.query_one("#bulk-parsed").render())
        assert "51 recipients" in parsed and "line 28" in parsed
        bulk.query_one("#bulk-rate", Input).value = "500"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: bulk.finished, "the run to end")
        bar = bulk.query_one(ProgressBar)
        assert bar.total == 51 and bar.progress == 51
        status = str(bulk.query_one("#bulk-status").render())
        assert "51 of 51 sent" in status
        local = app.session.local
        sent_to = [m.to for m in local.emulator.book if m.direction != "inbound"]
        assert sorted(sent_to) == sorted([*recipients, TO])  # each once
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BulkScreen), "closed")
        window = message_list(app).window
        # 51 sent, plus whatever replies the demo recipients have sent back by now.
        await wait_for(pilot, lambda: window.total + window.newer >= 51, "51 rows listed")


async def test_copy_and_open_show_the_text_over_ssh(make_app, monkeypatch) -> None:
    from tui.screens.modals import TextScreen

    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5555 10.0.0.2 22")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await ready(pilot, app)
        await fill(pilot, pane, TO, "hello")
        listing = await send_and_wait_for_sid(pilot, app)
        sid = listing.window.row(0).sid
        listing.focus()
        await pilot.press("y")
        await wait_for(pilot, lambda: sid in screen_text(app), "the SID shown")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), "the URL screen")
        # demo: the local Twilio's record
        await wait_for(pilot, lambda: f"Messages/{sid}.json" in screen_text(app), "the URL")
        await pilot.press("escape")
