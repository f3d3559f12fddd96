"""One message in full: its fields, its body, the error explained, and the timeline of
every event the store holds for it (create answer, callbacks, fetches, rejected requests),
with duplicates and out-of-order arrivals marked. Refreshes while it is open.
"""

from __future__ import annotations

import time

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Static

from tui.domain.masking import mask_address, mask_body, mask_numbers_in
from tui.services.console_session import ConsoleSession
from tui.services.timeline import Mark, MessageDetail, TimelineEntry, fields_of, load_detail
from tui.store import Store, StoredMessage
from tui.widgets.error_text import explain_error
from tui.widgets.measured_table import MeasuredTable
from tui.widgets.presenting import is_presenting
from tui.widgets.safe_text import sanitize
from tui.widgets.status_badge import badge

from .row_actions import ROW_BINDINGS, RowActions

DIM = Style(dim=True)
BOLD = Style(bold=True)
WARN = Style(color="yellow", bold=True)
BAD = Style(color="red", bold=True)
REFRESH_EVERY = 1.0

_MARK_TEXT = {
    Mark.INITIAL: ("initial", DIM),
    Mark.RECONCILED: ("fetched", DIM),
    Mark.DUPLICATE: ("duplicate", WARN),
    Mark.OUT_OF_ORDER: ("out of order", WARN),
    Mark.REJECTED: ("REJECTED", BAD),
    Mark.UNKNOWN_STATUS: ("unknown status", WARN),
    Mark.NOT_APPLIED: ("not applied", DIM),
}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}"


_ADDRESS_FIELDS = frozenset({"From", "To", "ForwardedFrom", "Caller", "Called"})
_BODY_FIELDS = frozenset({"Body", "ProfileName"})


def mask_field(label: str, value: str) -> str:
    """A field or callback parameter as presenter mode shows it."""
    if label in _ADDRESS_FIELDS:
        return mask_address(value) or ""
    if label in _BODY_FIELDS:
        return mask_body(value) or ""
    if label in ("Account", "AccountSid"):
        return "(hidden)"
    return mask_numbers_in(value) or ""


def marks_text(entry: TimelineEntry) -> Text:
    text = Text(end="")
    for mark in sorted(entry.marks):
        label, style = _MARK_TEXT[mark]
        if mark is Mark.DUPLICATE and entry.duplicates:
            label = f"duplicate x{entry.duplicates + 1}"
        if text:
            text.append(" ")
        text.append(label, style)
    return text


class DetailScreen(RowActions):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="detail.back"),
        Binding("p", "toggle_params", "Raw params", id="detail.params"),
        *ROW_BINDINGS,
    ]

    def __init__(self, session: ConsoleSession, message_id: int) -> None:
        super().__init__()
        self.session = session
        assert session.store is not None
        self.store: Store = session.store
        self.message_id = message_id
        self.detail: MessageDetail | None = None
        self._signature: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-title")
            with Horizontal(id="detail-top"):
                yield Static(id="detail-text")
                yield Static(id="detail-error")
            yield Static("Timeline", classes="section-title")
            yield MeasuredTable(id="detail-timeline", cursor_type="row", zebra_stripes=True)
            yield Static(id="detail-params")
            yield Static("Fields", classes="section-title")
            yield Static(id="detail-fields")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#detail-timeline", DataTable)
        table.add_columns("received", "+t", "kind", "status", "in state", "marks", "note")
        self.load()
        self.set_interval(REFRESH_EVERY, self.load)
        table.focus()

    @work(exclusive=True, group="detail-load", exit_on_error=False, description="Loading")
    async def load(self) -> None:
        detail = await load_detail(self.store, self.message_id)
        if detail is None:
            self.query_one("#detail-title", Static).update(
                Text("This message is no longer in the database (deleted).", BAD)
            )
            return
        signature = (detail.message.change_seq, sum(1 + e.duplicates for e in detail.timeline))
        if signature == self._signature:
            return
        self._signature = signature
        self.detail = detail
        self._show(detail)

    def _show(self, detail: MessageDetail) -> None:
        message = detail.message
        title = Text(end="")
        title.append_text(badge(message.status))
        title.append("  ")
        title.append(sanitize(message.sid or f"local #{message.id}"), BOLD)
        if detail.time_to_final is not None:
            title.append(f"   final after {duration(detail.time_to_final)}", DIM)
        self.query_one("#detail-title", Static).update(title)

        fields = Table.grid(padding=(0, 1))
        fields.add_column(style=DIM, no_wrap=True)
        fields.add_column(overflow="fold")
        present = is_presenting(self)
        for label, value in fields_of(message):
            if label == "Body":
                continue
            if present:
                value = mask_field(label, value)
            fields.add_row(label, Text(sanitize(value), end=""))
        fields.add_row("StatusCallback", Text(sanitize(detail.status_callback or "—")))
        if detail.media:
            for url in detail.media:
                fields.add_row("Media URL", Text(sanitize(url)))
        self.query_one("#detail-fields", Static).update(fields)

        error = Text(end="")
        if detail.error is not None:
            error = explain_error(detail.error, gap="\n\n")
            if message.error_message:
                said = message.error_message
                error.append("\n\nTwilio said: ", DIM)
                error.append(sanitize(mask_numbers_in(said) if present else said))
        else:
            error.append("No error.", DIM)
        self.query_one("#detail-error", Static).update(error)

        body = Text(end="")
        body.append("Body", DIM)
        segments = message.num_segments
        counted = (
            "? segments" if segments is None else f"{segments} segment" + "s" * (segments != 1)
        )
        body.append(f" ({len(message.body or '')} chars, {counted})\n", DIM)
        shown = mask_body(message.body) if present else message.body
        body.append(sanitize(shown, multiline=True) or "(no body)")
        self.query_one("#detail-text", Static).update(body)

        table = self.query_one("#detail-timeline", DataTable)
        table.clear()
        for entry in detail.timeline:
            table.add_row(
                clock(entry.at),
                f"+{duration(entry.since_first)}" if entry.since_first else "0",
                entry.kind.value,
                Text(sanitize(entry.status or "—"), BOLD),
                duration(entry.in_state),
                marks_text(entry),
                Text(sanitize(entry.note)),
                key=str(entry.event_id),
            )
        self._show_params(table.cursor_row)

    @on(DataTable.RowHighlighted, "#detail-timeline")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_params(event.cursor_row)

    def _show_params(self, row: int) -> None:
        panel = self.query_one("#detail-params", Static)
        if self.detail is None or not 0 <= row < len(self.detail.timeline):
            panel.update("")
            return
        entry = self.detail.timeline[row]
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style=DIM, no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(
            "signature",
            Text(f"{entry.signature.value}", BAD if Mark.REJECTED in entry.marks else BOLD),
        )
        if entry.checked_url:
            grid.add_row("checked URL", Text(sanitize(entry.checked_url)))
        if entry.rejected_reason:
            grid.add_row("rejected", Text(sanitize(entry.rejected_reason), BAD))
        if entry.duplicates:
            grid.add_row(
                "duplicates", f"{entry.duplicates} more identical deliveries, not stored again"
            )
        present = is_presenting(self)
        for key, value in entry.params:
            if present:
                value = mask_field(key, value)
            grid.add_row(Text(sanitize(key)), Text(sanitize(value)))
        panel.update(grid)

    def presenter_changed(self, present: bool) -> None:
        self._signature = None  # shown again, masked or not
        self.load()

    def selected_message(self) -> StoredMessage | None:
        return self.detail.message if self.detail is not None else None

    def action_toggle_params(self) -> None:
        self.query_one("#detail-params", Static).toggle_class("-hidden")
