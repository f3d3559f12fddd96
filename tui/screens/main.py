"""The main screen: session header, filter bar, the live message list, its status line.

Routes messages between siblings (attributes down, messages up): the filter bar's query
goes down to the list, the list's counts go up to the header.
"""

from __future__ import annotations

from datetime import timedelta

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.screens.detail import DetailScreen
from tui.services.console_session import ConsoleSession
from tui.services.filter_query import ParsedQuery, describe
from tui.services.message_window import MessageWindow
from tui.widgets.filter_bar import FilterBar
from tui.widgets.message_list import MessageList
from tui.widgets.message_row import heading
from tui.widgets.safe_text import sanitize
from tui.widgets.session_header import SessionHeader

DIM = Style(dim=True)
NEW = Style(color="black", bgcolor="yellow", bold=True)


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="main.filter", tooltip="Filter the list"),
        Binding(
            "t", "triage", "Triage", id="main.triage", tooltip="Undelivered and failed, grouped"
        ),
        Binding(
            "r",
            "rejected",
            "Rejected",
            id="main.rejected",
            tooltip="Callbacks that failed signature validation",
        ),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="main.clear"),
    ]

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session
        assert session.store is not None
        self.window = MessageWindow(session.store)
        self.query_text = ""
        self.query_summary = ""

    def compose(self) -> ComposeResult:
        yield SessionHeader(id="session-header")
        yield FilterBar(timedelta(seconds=self.session.options.config.stuck_after), id="filter-bar")
        yield Static(id="list-heading")
        yield MessageList(self.window, self.session.changes, id="message-list")
        yield Static(id="list-status")
        yield Footer()

    @property
    def message_list(self) -> MessageList:
        return self.query_one(MessageList)

    def on_mount(self) -> None:
        self.message_list.focus()
        self.set_interval(1.0, self.refresh_header)
        self.refresh_header()

    def on_resize(self) -> None:
        width = self.message_list.size.width or self.size.width
        self.query_one("#list-heading", Static).update(heading(width - 1))

    # -- header and status line --------------------------------------------------------

    def refresh_header(self) -> None:
        window = self.window
        if window.counted:
            label = f"{window.total + window.newer:,} messages"
            if self.query_text:
                label += " match"
        else:
            label = "counting…"
        self.query_one(SessionHeader).show(self.session.info(), window.counts, label)
        self._refresh_status()

    def _refresh_status(self) -> None:
        listing = self.message_list
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if listing.newer:
            text.append(f" ▲ {listing.newer:,} new ", NEW)
            text.append(" home: show them  ", DIM)
        elif listing.following:
            text.append("following newest  ", DIM)
        if self.query_text:
            text.append("filter ", DIM)
            text.append(sanitize(self.query_summary or self.query_text), Style(bold=True))
            text.append("  esc clears", DIM)
        else:
            text.append("/ filters · enter opens · t triage · ? keys", DIM)
        self.query_one("#list-status", Static).update(text)

    @on(MessageList.Opened)
    def _open_detail(self, event: MessageList.Opened) -> None:
        assert self.session.store is not None
        self.app.push_screen(DetailScreen(self.session.store, event.message.id))

    @on(MessageList.Changed)
    def _list_rows_changed(self) -> None:
        self.refresh_header()

    # -- filtering ---------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self.query_text)

    def show_query(self, text: str) -> ParsedQuery | None:
        """Apply a query as if typed in the filter bar (palette presets, triage drill-in)."""
        return self.query_one(FilterBar).submit(text)

    def action_triage(self) -> None:
        from tui.screens.triage import TriageScreen

        assert self.session.store is not None
        self.app.push_screen(TriageScreen(self.session.store), self._drill_in)

    def _drill_in(self, query: str | None) -> None:
        if query is not None:
            self.show_query(query)

    def action_rejected(self) -> None:
        from tui.screens.rejected import RejectedScreen

        assert self.session.store is not None
        public = self.session.lifecycle.public_url if self.session.lifecycle else None
        self.app.push_screen(RejectedScreen(self.session.store, public))

    @on(FilterBar.Applied)
    def _filter_applied(self, event: FilterBar.Applied) -> None:
        self.query_text = event.query.text.strip()
        self.query_summary = describe(event.query) if self.query_text else ""
        self.message_list.apply_filter(event.query.filter)
        self.message_list.focus()
        self.refresh_header()

    @on(FilterBar.Closed)
    def _filter_closed(self) -> None:
        self.message_list.focus()

    def action_clear_filter(self) -> None:
        if self.query_text:
            self.show_query("")
