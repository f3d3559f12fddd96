"""How a status looks everywhere it is shown: list rows, the detail view, triage, header.

Colours are the 16 ANSI ones plus bold, so a badge reads the same on a 16-colour terminal
over SSH as on a true-colour one; meaning never rests on colour alone (the word is there).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tui.domain.status import MessageStatus

S = MessageStatus

STATUS_STYLES: dict[MessageStatus | None, Style] = {
    S.ACCEPTED: Style(color="black", bgcolor="bright_cyan"),
    S.SCHEDULED: Style(color="black", bgcolor="magenta"),
    S.QUEUED: Style(color="black", bgcolor="cyan"),
    S.SENDING: Style(color="black", bgcolor="cyan"),
    S.SENT: Style(color="black", bgcolor="bright_blue"),
    S.DELIVERED: Style(color="black", bgcolor="green"),
    S.READ: Style(color="black", bgcolor="bright_green", bold=True),
    S.UNDELIVERED: Style(color="bright_white", bgcolor="red", bold=True),
    S.FAILED: Style(color="bright_white", bgcolor="red", bold=True),
    S.PARTIALLY_DELIVERED: Style(color="black", bgcolor="yellow"),
    S.CANCELED: Style(color="black", bgcolor="bright_black"),
    S.RECEIVING: Style(color="black", bgcolor="yellow"),
    S.RECEIVED: Style(color="black", bgcolor="bright_yellow"),
    None: Style(color="bright_white", bgcolor="bright_black", italic=True),
}
BADGE_WIDTH = 13  # " undelivered " ("partially_delivered" is shortened)
# Presenter mode: an audience reads badges from across a room, so they are wider, in
# capitals and carry a symbol, the meaning never resting on colour alone.
LARGE_BADGE_WIDTH = 15
_SYMBOLS = {
    S.DELIVERED: "✓",
    S.READ: "✓",
    S.UNDELIVERED: "✗",
    S.FAILED: "✗",
    S.CANCELED: "-",
    S.RECEIVED: "←",
    S.SCHEDULED: "◷",
}

_SHORT = {S.PARTIALLY_DELIVERED: "partial"}


def status_label(status: MessageStatus | None) -> str:
    if status is None:
        return "sending…"
    return _SHORT.get(status, status.value)


def badge(status: MessageStatus | None, width: int = BADGE_WIDTH, *, large: bool = False) -> Text:
    """The status word on its colour, centred in `width` cells; `large` for presenting."""
    label = status_label(status)
    style = STATUS_STYLES[status]
    if large:
        label = f"{_SYMBOLS.get(status, '•') if status else '…'} {label.upper()}"
        style += Style(bold=True)
    label = label[: max(1, width - 2)]
    return Text(label.center(width), style=style, no_wrap=True, end="")
