"""Export the rows the list's filter selects (with their timelines) to a JSONL or CSV
file; masked while presenter mode is on."""

from __future__ import annotations

import time
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, RadioButton, RadioSet, Static

from tui.services.export import ExportFormat
from tui.services.export_file import export_to_file
from tui.store import MessageFilter, Store
from tui.widgets.safe_text import sanitize

DIM = Style(dim=True)
BOLD = Style(bold=True)
OK = Style(color="green", bold=True)
BAD = Style(color="red", bold=True)


def default_target(fmt: ExportFormat, now: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return Path.cwd() / f"msgwatch-{stamp}.{fmt.value}"


class ExportScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 84; max-width: 100%; height: auto; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    ExportScreen RadioSet { height: auto; margin: 1 0; }
    ExportScreen #export-result { height: auto; margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="export.close"),
        Binding("ctrl+s", "export", "Export", id="export.go"),
    ]

    def __init__(self, store: Store, flt: MessageFilter, query: str, *, masked: bool) -> None:
        super().__init__()
        self.store = store
        self.filter = flt
        self.query_text = query
        self.masked = masked
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical():
            title = Text("Export ", BOLD)
            if self.query_text:
                title.append("the messages the filter selects: ", BOLD)
                title.append(sanitize(self.query_text))
            else:
                title.append("every message", BOLD)
            yield Static(title)
            if self.masked:
                yield Static(Text("Presenter mode: numbers and bodies are masked.", DIM))
            with RadioSet(id="export-format"):
                yield RadioButton("JSON Lines (one message per line, with its timeline)",
                                  value=True, id="format-jsonl")  # fmt: skip
                yield RadioButton("CSV (spreadsheets; formulas defused)", id="format-csv")
            yield Input(str(default_target(ExportFormat.JSONL)), id="export-path")
            yield Static(Text("enter or ctrl+s exports · esc closes", DIM), id="export-result")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @property
    def format(self) -> ExportFormat:
        csv = self.query_one("#format-csv", RadioButton).value
        return ExportFormat.CSV if csv else ExportFormat.JSONL

    @on(RadioSet.Changed)
    def _format_changed(self) -> None:
        field = self.query_one("#export-path", Input)
        path = Path(field.value)
        if path.suffix in (".jsonl", ".csv"):
            field.value = str(path.with_suffix(f".{self.format.value}"))

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    def _say(self, text: Text) -> None:
        self.query_one("#export-result", Static).update(text)

    def action_export(self) -> None:
        if not self.running:
            self._export(Path(self.query_one("#export-path", Input).value).expanduser())

    @work(exclusive=True, group="export", exit_on_error=False, description="Exporting")
    async def _export(self, target: Path) -> None:
        self.running = True
        self._say(Text(f"exporting to {sanitize(str(target))}…", DIM))
        try:
            count = await export_to_file(
                self.store,
                target,
                self.format,
                self.filter,
                masked=self.masked,
                on_progress=lambda n: self._say(Text(f"{n:,} lines written…", DIM)),
            )
        except OSError as exc:
            self._say(Text(f"✗ cannot write {sanitize(str(target))}: {exc.strerror}", BAD))
            return
        finally:
            self.running = False
        done = Text(end="")
        done.append(f"✓ {count:,} messages written to ", OK)
        done.append(sanitize(str(target)))
        done.append("  esc closes", DIM)
        self._say(done)

    def action_close(self) -> None:
        self.dismiss(None)
