"""Rejected callbacks: requests that failed signature validation, grouped by the URL that
was checked, with the likely cause and the fix. Refreshes while open."""

from __future__ import annotations

import time

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.services.rejections import RejectionGroup, rejection_groups
from tui.store import Store
from tui.widgets.safe_text import sanitize

BAD = Style(color="red", bold=True)
DIM = Style(dim=True)
BOLD = Style(bold=True)
REFRESH_EVERY = 2.0


class RejectedScreen(Screen[None]):
    BINDINGS = [Binding("escape,backspace,r", "app.pop_screen", "Back", id="rejected.back")]

    def __init__(self, store: Store, public_url: str | None) -> None:
        super().__init__()
        self.store = store
        self.public_url = public_url
        self.groups: list[RejectionGroup] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="rejected-title")
            yield DataTable(id="rejected-table", cursor_type="row")
            yield Static(id="rejected-cause")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("last", "count", "verdict", "URL checked")
        self.load()
        self.set_interval(REFRESH_EVERY, self.load)
        table.focus()

    @work(exclusive=True, group="rejected-load", exit_on_error=False, description="Loading")
    async def load(self) -> None:
        groups = await rejection_groups(self.store, self.public_url)
        if groups == self.groups and self.groups:
            return
        self.groups = groups
        total = sum(g.count for g in groups)
        title = Text(end="")
        title.append("Rejected callbacks", BOLD)
        if groups:
            title.append(f"  {total} requests failed signature validation", BAD)
        else:
            title.append(
                "  none: every callback so far had a valid signature (or none arrived)", DIM
            )
        self.query_one("#rejected-title", Static).update(title)
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for group in groups:
            table.add_row(
                time.strftime("%H:%M:%S", time.localtime(group.last_at)),
                str(group.count),
                Text(group.verdict.value, BAD),
                Text(sanitize(group.checked_url)),
            )
        if groups:
            table.move_cursor(row=min(max(row, 0), len(groups) - 1))
        self._explain(table.cursor_row)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._explain(event.cursor_row)

    def _explain(self, row: int) -> None:
        panel = self.query_one("#rejected-cause", Static)
        if not 0 <= row < len(self.groups):
            panel.update("")
            return
        group = self.groups[row]
        text = Text(end="")
        text.append("Likely cause: ", BOLD)
        text.append(sanitize(group.cause) + "\n\n")
        text.append("Fix: ", BOLD)
        text.append(sanitize(group.fix) + "\n\n")
        text.append("Reason recorded: ", DIM)
        text.append(sanitize(group.reason) + "\n", DIM)
        if group.example_sid:
            text.append("Example message: ", DIM)
            text.append(sanitize(group.example_sid), DIM)
        panel.update(text)
