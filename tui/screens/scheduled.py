"""Scheduled messages still waiting for their SendAt, soonest first, with a countdown;
`x` cancels the selected one (Twilio answers `canceled`, and the row leaves this view)."""

from __future__ import annotations

import time
from datetime import timedelta

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from tui.domain.schedule import describe_span
from tui.domain.status import MessageStatus
from tui.services.console_session import ConsoleSession
from tui.store import MessageFilter, StoredMessage
from tui.widgets.measured_table import MeasuredTable
from tui.widgets.safe_text import preview, sanitize

from .row_actions import RowActions

DIM = Style(dim=True)
BOLD = Style(bold=True)
LIMIT = 500
RELOAD_EVERY = 2.0
SCHEDULED = MessageFilter(statuses=frozenset({MessageStatus.SCHEDULED}))


def countdown(send_at: float | None, now: float) -> str:
    if send_at is None:
        return "?"
    left = send_at - now
    if left <= 0:
        return "due"
    return "in " + describe_span(timedelta(seconds=left))


class ScheduledScreen(RowActions):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="scheduled.back"),
        Binding("x", "cancel_scheduled", "Cancel it", id="scheduled.cancel"),
        Binding("enter", "open", "Details", id="scheduled.open"),
    ]

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session
        self.rows: list[StoredMessage] = []

    def compose(self) -> ComposeResult:
        yield Static(id="scheduled-title")
        yield MeasuredTable(id="scheduled-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="scheduled-hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("sends at", key="at")
        table.add_column("countdown", key="left", width=22)
        table.add_column("to", key="to")
        table.add_column("from", key="from")
        table.add_column("body", key="body")
        table.focus()
        self.load()
        self.set_interval(RELOAD_EVERY, self.load)
        self.set_interval(1.0, self._tick)
        self.query_one("#scheduled-hint", Static).update(
            Text("x cancels the selected message · enter opens it · esc goes back", DIM)
        )

    @work(exclusive=True, group="scheduled-load", exit_on_error=False, description="Loading")
    async def load(self) -> None:
        store = self.session.store
        assert store is not None
        page = await store.page(SCHEDULED, limit=LIMIT)
        rows = sorted(page.rows, key=lambda m: (m.send_at or 0.0, m.id))
        if [(m.id, m.change_seq) for m in rows] == [(m.id, m.change_seq) for m in self.rows]:
            return
        self.rows = rows
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        now = time.time()
        for message in self.rows:
            at = message.send_at
            table.add_row(
                time.strftime("%a %d %b %H:%M", time.localtime(at)) if at else "?",
                countdown(at, now),
                Text(sanitize(message.to_addr or "")),
                Text(sanitize(message.messaging_service_sid or message.from_addr or "")),
                Text(preview(message.body, 40)),
                key=str(message.id),
            )
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        title = Text(end="")
        title.append(f"{len(self.rows)} scheduled", BOLD)
        title.append(" message" + ("s" if len(self.rows) != 1 else ""), BOLD)
        title.append(" waiting for their send time", DIM)
        if len(self.rows) >= LIMIT:
            title.append(f" (the {LIMIT} newest)", DIM)
        self.query_one("#scheduled-title", Static).update(title)

    def _tick(self) -> None:
        table = self.query_one(DataTable)
        now = time.time()
        for message in self.rows:
            table.update_cell(str(message.id), "left", countdown(message.send_at, now))

    def selected_message(self) -> StoredMessage | None:
        row = self.query_one(DataTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        from .detail import DetailScreen

        message = self.selected_message()
        if message is not None:
            self.app.push_screen(DetailScreen(self.session, message.id))
