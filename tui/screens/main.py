"""The main screen: session header, filter bar, the live message list and its status
line, and the compose pane beside the list.

Routes messages between siblings (attributes down, messages up): the filter bar's query
goes down to the list, the list's counts go up to the header, the compose pane's drafts
go to the lifecycle (in a worker) and the outcome back to the pane.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import timedelta

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static

from tui.screens.detail import DetailScreen
from tui.services.compose_form import local_zone
from tui.services.console_session import ConsoleSession
from tui.services.filter_query import ParsedQuery, describe
from tui.services.lifecycle import CALLBACK_PATH, Draft, DraftError, utc_now
from tui.services.message_window import MessageWindow
from tui.store import StoredMessage
from tui.twilio import GatewayError
from tui.widgets.compose_pane import ComposePane
from tui.widgets.filter_bar import FilterBar
from tui.widgets.message_list import MessageList
from tui.widgets.message_row import heading
from tui.widgets.one_line import set_line
from tui.widgets.presenting import is_presenting
from tui.widgets.safe_text import sanitize
from tui.widgets.session_header import SessionHeader

from .row_actions import ROW_BINDINGS, RowActions

log = logging.getLogger("msgwatch.console")


def settle_memory() -> None:
    """Move what start-up built (modules, widgets, caches) out of the garbage collector's
    sight. Under load Textual makes short-lived cycles (rendered strips) that push full
    collections every ~2 s; each walked all ~140k start-up objects, ~145 ms with the loop
    stopped (bench/soak.py). Frozen, a full pass walks only what is newer."""
    gc.collect()
    gc.freeze()


DIM = Style(dim=True)
NEW = Style(color="black", bgcolor="yellow", bold=True)
# From this terminal width the compose pane is open at start; narrower, `c` opens it.
COMPOSE_OPEN_FROM = 130
# Narrower than this, list and pane do not fit side by side: the open pane takes it all.
SIDE_BY_SIDE_FROM = 100


class MainScreen(RowActions):
    BINDINGS = [
        Binding("c", "compose", "Compose", id="main.compose", tooltip="Write a message"),
        Binding(
            "z",
            "toggle_compose",
            "Wide list",
            show=False,
            id="main.wide",
            tooltip="Hide or show the compose pane",
        ),
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
        Binding("s", "scheduled", "Scheduled", id="main.scheduled", tooltip="Pending sends"),
        Binding("E", "export", "Export", show=False, id="main.export", tooltip="The filtered rows"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="main.clear"),
        *ROW_BINDINGS,
    ]

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session
        assert session.store is not None
        self.window = MessageWindow(session.store)
        self.query_text = ""
        self.query_summary = ""
        self._pane: ComposePane | None = None
        self.compose_ready = asyncio.Event()  # the pane is mounted, its fields usable

    def compose(self) -> ComposeResult:
        yield SessionHeader(id="session-header")
        yield FilterBar(timedelta(seconds=self.session.options.config.stuck_after), id="filter-bar")
        with Horizontal(id="main-body"), Vertical(id="list-column"):
            yield Static(id="list-heading")
            yield MessageList(self.window, self.session.changes, id="message-list")
            yield Static(id="list-status")
        yield Footer()

    def _compose_pane(self) -> ComposePane:
        session = self.session
        lifecycle = session.lifecycle
        callback = None
        if lifecycle is not None and lifecycle.public_url:
            callback = f"{lifecycle.public_url}{CALLBACK_PATH}?lid=…"
        pane = ComposePane(
            senders=session.senders,
            default_from=lifecycle.default_from if lifecycle else None,
            default_service=lifecycle.default_service if lifecycle else None,
            callback_url=callback,
            clock=lifecycle.clock if lifecycle else utc_now,
            zone=local_zone(),
            id="compose",
        )
        if self.app.size.width < COMPOSE_OPEN_FROM:
            pane.add_class("-hidden")
        return pane

    @property
    def compose_pane(self) -> ComposePane:
        """The pane, mounted now if the list has not painted yet (see `_mount_pane`)."""
        if self._pane is None:
            self._pane = self._compose_pane()
            self.query_one("#main-body").mount(self._pane)
        return self._pane

    @work(group="compose-mount", exit_on_error=False)
    async def _mount_pane(self) -> None:
        # After the list's first page: mounting some thirty form widgets costs a few
        # hundred milliseconds here, which the first look at the list should not wait for.
        await self.message_list.ready.wait()
        if self._pane is None:
            self._pane = self._compose_pane()
            await self.query_one("#main-body").mount(self._pane)
        self._layout()
        self.compose_ready.set()
        self._load_recent()
        settle_memory()

    def selected_message(self) -> StoredMessage | None:
        return self.message_list.current

    @property
    def message_list(self) -> MessageList:
        return self.query_one(MessageList)

    def on_mount(self) -> None:
        self.message_list.set_present(is_presenting(self))
        self.message_list.focus()
        self.set_interval(1.0, self.refresh_header)
        self.refresh_header()
        self._mount_pane()

    def on_resize(self) -> None:
        self._layout()
        self._show_heading()

    @on(MessageList.Resized)
    def _show_heading(self) -> None:
        width = self.message_list.size.width or self.size.width
        set_line(self.query_one("#list-heading", Static), heading(width - 1, is_presenting(self)))

    def presenter_changed(self, present: bool) -> None:
        self.message_list.set_present(present)
        self._show_heading()
        self.refresh_header()

    # -- header and status line --------------------------------------------------------

    def refresh_header(self) -> None:
        window = self.window
        if window.counted:
            label = f"{window.total + window.newer:,} messages"
            if self.query_text:
                label += " match"
        else:
            label = "counting…"
        self.query_one(SessionHeader).show(
            self.session.info(), window.counts, label, present=is_presenting(self)
        )
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
        set_line(self.query_one("#list-status", Static), text)

    @on(MessageList.Opened)
    def _open_detail(self, event: MessageList.Opened) -> None:
        self.app.push_screen(DetailScreen(self.session, event.message.id))

    # -- composing -----------------------------------------------------------------------

    def action_compose(self) -> None:
        self.open_compose().focus_to()

    def action_toggle_compose(self) -> None:
        pane = self.compose_pane
        pane.toggle_class("-hidden")
        self._layout()
        if pane.has_class("-hidden"):
            self.message_list.focus()

    @property
    def narrow(self) -> bool:
        return self.app.size.width < SIDE_BY_SIDE_FROM

    def _layout(self) -> None:
        """Side by side when there is room; on a narrow terminal the open pane takes the
        whole width (and esc gives it back to the list)."""
        pane = self._pane
        if pane is None:
            return
        narrow = self.narrow
        self.query_one("#list-column").set_class(narrow and not pane.has_class("-hidden"),
                                                 "-hidden")  # fmt: skip
        pane.set_class(narrow, "-full")

    def open_compose(self) -> ComposePane:
        pane = self.compose_pane
        if pane.has_class("-hidden"):
            self.action_toggle_compose()
        return pane

    def resend(self, message: StoredMessage) -> None:
        """A copy of `message` in the compose pane, to edit and send."""
        if not message.to_addr:
            self.notify("This message has no recipient to send to again.", severity="warning")
            return
        draft = Draft(
            to=message.to_addr,
            body=message.body,
            from_=None if message.messaging_service_sid else message.from_addr,
            messaging_service_sid=message.messaging_service_sid,
        )
        self.open_compose().prefill(draft, message.id)

    @on(ComposePane.Left)
    def _compose_left(self) -> None:
        if self.narrow:
            self.action_toggle_compose()
        else:
            self.message_list.focus()

    @on(ComposePane.SendRequested)
    def _send_requested(self, event: ComposePane.SendRequested) -> None:
        self._send(event.draft)

    @work(group="send", exit_on_error=False, description="Sending")
    async def _send(self, draft: Draft) -> None:
        pane = self.compose_pane
        lifecycle = self.session.lifecycle
        assert lifecycle is not None
        try:
            result = await lifecycle.send(draft)
        except DraftError as exc:
            pane.refused_draft(exc)
            return
        except Exception as exc:  # the pane must not stay "sending…" forever
            log.exception("send failed")
            pane.refused(GatewayError(f"msgwatch could not send it: {exc}"))
            return
        pane.sent(result)
        self.message_list.action_first()
        self._load_recent()

    @work(exclusive=True, group="recent", exit_on_error=False)
    async def _load_recent(self) -> None:
        assert self.session.store is not None
        self.compose_pane.set_recent(await self.session.store.recent_recipients())

    @on(ComposePane.BulkRequested)
    def _bulk_requested(self, event: ComposePane.BulkRequested) -> None:
        from .bulk import BulkScreen

        lifecycle = self.session.lifecycle
        assert lifecycle is not None
        self.app.push_screen(BulkScreen(lifecycle, event.draft))

    # -- other views -------------------------------------------------------------------

    def action_scheduled(self) -> None:
        from .scheduled import ScheduledScreen

        self.app.push_screen(ScheduledScreen(self.session))

    def action_export(self) -> None:
        from .export import ExportScreen

        assert self.session.store is not None
        self.app.push_screen(
            ExportScreen(
                self.session.store,
                self.window.filter,
                self.query_text,
                masked=is_presenting(self),
            )
        )

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
