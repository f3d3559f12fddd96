"""`?`: every key, read from the bindings themselves, so the list cannot drift from them."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

BOLD = Style(bold=True)
DIM = Style(dim=True)

# Keys whose names read badly in a list.
_KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "escape": "esc",
    "backspace": "⌫",
    "enter": "enter",
    "pageup": "pgup",
    "pagedown": "pgdn",
}


def key_label(keys: str) -> str:
    return " ".join(_KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


def binding_rows(bindings: Sequence[BindingType]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for binding in bindings:
        if not isinstance(binding, Binding):
            continue
        text = binding.description or binding.action
        if binding.tooltip:
            text = f"{text}: {binding.tooltip}"
        rows.append((key_label(binding.key), text))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    """

    def __init__(self, sections: Sequence[tuple[str, Sequence[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style=BOLD)
        table.add_column()
        for title, bindings in self.sections:
            rows = binding_rows(bindings)
            if not rows:
                continue
            table.add_row(Text(title, Style(bold=True, underline=True)), "")
            for keys, text in rows:
                table.add_row(keys, text)
            table.add_row("", "")
        table.add_row(Text("ctrl+p", BOLD), "Command palette: every action and filter preset")
        with VerticalScroll():
            yield Static(Text("Keys", BOLD))
            yield Static(table)
            yield Static(Text("The mouse works too (click a row, double-click opens it).", DIM))
