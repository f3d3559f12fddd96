"""Triage: undelivered and failed messages grouped by error code, then by destination
country and by sender, with counts, shares, the last hour's trend and the catalog's
explanation. Enter on any group returns its filter query to the list (drill-in).
Refreshes live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.domain.masking import mask_address
from tui.services.triage import ErrorGroup, TriageReport, build_report
from tui.store import Store
from tui.widgets.error_text import explain_error
from tui.widgets.measured_table import MeasuredTable
from tui.widgets.presenting import is_presenting
from tui.widgets.safe_text import sanitize
from tui.widgets.sparkline_text import sparkline

BOLD = Style(bold=True)
DIM = Style(dim=True)
BAD = Style(color="red", bold=True)
REFRESH_EVERY = 2.0
# The windows `w` cycles through; None is all time.
WINDOWS: tuple[tuple[str, timedelta | None], ...] = (
    ("last 24 hours", timedelta(hours=24)),
    ("last hour", timedelta(hours=1)),
    ("last 7 days", timedelta(days=7)),
    ("all time", None),
)


def percent(share: float) -> str:
    return f"{share * 100:.1f}%" if share < 0.995 else "100%"


class TriageScreen(Screen[str | None]):
    BINDINGS = [
        Binding("escape,backspace,t", "close", "Back", id="triage.back"),
        Binding("w", "window", "Window", id="triage.window", tooltip="Change the time window"),
        Binding("enter", "drill", "Show messages", id="triage.drill"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.window_index = 0
        self.report: TriageReport | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="triage-title")
            yield MeasuredTable(id="triage-groups", cursor_type="row")
            with Horizontal(id="triage-breakdowns"):
                with Vertical():
                    yield Static("By destination country", classes="section-title")
                    yield MeasuredTable(id="triage-countries", cursor_type="row")
                with Vertical():
                    yield Static("By sender", classes="section-title")
                    yield MeasuredTable(id="triage-senders", cursor_type="row")
            yield Static(id="triage-explain")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#triage-groups", DataTable).add_columns(
            "error", "title", "count", "share", "last hour"
        )
        self.query_one("#triage-countries", DataTable).add_columns("country", "count", "share")
        self.query_one("#triage-senders", DataTable).add_columns("sender", "count", "share")
        self.load()
        self.set_interval(REFRESH_EVERY, self.load)
        self.query_one("#triage-groups", DataTable).focus()

    @property
    def window_label(self) -> str:
        return WINDOWS[self.window_index][0]

    @work(exclusive=True, group="triage-load", exit_on_error=False, description="Triage")
    async def load(self) -> None:
        window = WINDOWS[self.window_index][1]
        report = await build_report(self.store, now=datetime.now(UTC), window=window)
        if self.report is not None and report.groups == self.report.groups:
            self.report = report
            self._show_title(report)
            return
        self.report = report
        self._show(report)

    def _show_title(self, report: TriageReport) -> None:
        title = Text(end="")
        title.append("Undelivered & failed", BOLD)
        title.append(f" · {self.window_label} (w changes) · ", DIM)
        if report.problems:
            title.append(f"{report.problems:,} problems", BAD)
            if report.failure_rate is not None:
                title.append(
                    f" of {report.finished:,} finished ({percent(report.failure_rate)})", DIM
                )
        else:
            title.append("no problems: every finished message was delivered", DIM)
        self.query_one("#triage-title", Static).update(title)

    def _show(self, report: TriageReport) -> None:
        self._show_title(report)
        table = self.query_one("#triage-groups", DataTable)
        row = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for group in report.groups:
                table.add_row(
                    Text(str(group.error_code) if group.error_code else "—", BAD),
                    Text(sanitize(group.info.title if group.info else "no error code")),
                    f"{group.count:,}",
                    percent(group.share),
                    Text(sparkline(group.trend), Style(color="red")),
                )
            if report.groups:
                table.move_cursor(row=min(max(row, 0), len(report.groups) - 1))
            self._show_group(table.cursor_row)

    @property
    def group(self) -> ErrorGroup | None:
        if self.report is None:
            return None
        row = self.query_one("#triage-groups", DataTable).cursor_row
        return self.report.groups[row] if 0 <= row < len(self.report.groups) else None

    @on(DataTable.RowHighlighted, "#triage-groups")
    def _group_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_group(event.cursor_row)

    def _show_group(self, row: int) -> None:
        countries = self.query_one("#triage-countries", DataTable)
        senders = self.query_one("#triage-senders", DataTable)
        explain = self.query_one("#triage-explain", Static)
        countries.clear()
        senders.clear()
        if self.report is None or not 0 <= row < len(self.report.groups):
            explain.update("")
            return
        group = self.report.groups[row]
        for item in group.countries:
            countries.add_row(
                Text(sanitize(f"{item.label} ({item.key})")), f"{item.count:,}", percent(item.share)
            )
        for item in group.senders:
            label = mask_address(item.label) if is_presenting(self) else item.label
            senders.add_row(Text(sanitize(label)), f"{item.count:,}", percent(item.share))
        if group.info is not None:
            text = explain_error(group.info)
        else:
            text = Text("These messages failed without an error code.", DIM, end="")
        text.append("\n\nenter shows these messages: ", DIM)
        text.append(sanitize(group.query), BOLD)
        explain.update(text)

    def action_window(self) -> None:
        self.window_index = (self.window_index + 1) % len(WINDOWS)
        self.report = None
        self.load()

    def action_drill(self) -> None:
        focused = self.focused
        group = self.group
        if group is None:
            return
        query = group.query
        if isinstance(focused, DataTable) and focused.id in ("triage-countries", "triage-senders"):
            items = group.countries if focused.id == "triage-countries" else group.senders
            if 0 <= focused.cursor_row < len(items):
                query = items[focused.cursor_row].query
        self.dismiss(query)

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_drill()

    def action_close(self) -> None:
        self.dismiss(None)
