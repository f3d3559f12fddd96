"""Small modal screens: a question with keyed answers, and a text to read or copy by hand.

Both take plain strings (sanitized here) and never markup: the text often holds a body
or an error message from the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.widgets.safe_text import sanitize

T = TypeVar("T")
BOLD = Style(bold=True)
DIM = Style(dim=True)


@dataclass(frozen=True, slots=True)
class Choice(Generic[T]):
    key: str  # one key that picks it
    label: str
    value: T
    variant: str = "default"  # a Button variant: "error" for the destructive one


class ChoiceScreen(ModalScreen[T | None]):
    """A question and its answers; escape answers None."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 72; max-width: 100%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ChoiceScreen #choice-title { height: auto; margin: 0 0 1 0; }
    ChoiceScreen #choice-body { height: auto; margin: 0 0 1 0; }
    ChoiceScreen Horizontal { height: auto; }
    ChoiceScreen Button { margin: 0 1 0 0; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, body: str, choices: list[Choice[T]]) -> None:
        super().__init__()
        self.title_text = title
        self.body_text = body
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(sanitize(self.title_text), style=BOLD), id="choice-title")
            yield Static(Text(sanitize(self.body_text, multiline=True)), id="choice-body")
            with Horizontal():
                for i, choice in enumerate(self.choices):
                    yield Button(
                        f"{choice.label} ({choice.key})",
                        id=f"choice-{i}",
                        variant=choice.variant,  # type: ignore[arg-type]
                        compact=True,
                    )
                yield Button("Cancel (esc)", id="choice-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#choice-cancel", Button).focus()  # the safe answer by default

    def on_key(self, event: events.Key) -> None:
        for choice in self.choices:
            if event.key == choice.key:
                event.stop()
                self.dismiss(choice.value)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "choice-cancel":
            self.dismiss(None)
            return
        index = int((event.button.id or "choice-0").removeprefix("choice-"))
        self.dismiss(self.choices[index].value)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """Text to read or select by hand (a URL when no browser can be opened here)."""

    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > Vertical {
        width: 60; max-width: 100%; height: auto; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    TextScreen #text-body { height: auto; margin: 1 0; }
    """
    BINDINGS = [Binding("escape,enter,q", "dismiss_none", "Close", id="text.close")]

    def __init__(self, title: str, body: str, hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.body_text = body
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(sanitize(self.title_text), style=BOLD))
            # Not wrapped where the terminal is wide enough: a URL is copied by selecting it,
            # and a wrapped one would be copied with a line break in it.
            body = Text(sanitize(self.body_text, multiline=True), overflow="fold")
            yield Static(body, id="text-body")
            yield Static(Text(sanitize(self.hint) + "  (esc closes)", style=DIM))

    def on_mount(self) -> None:
        # As wide as the longest line needs (up to the screen), so a URL stays on one line.
        longest = max(len(line) for line in [self.title_text, *self.body_text.splitlines()])
        self.query_one(Vertical).styles.width = max(60, longest + 6)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
