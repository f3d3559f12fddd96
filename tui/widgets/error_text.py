"""A Twilio error explained from the catalog, as the detail and triage views show it."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tui.domain.errors import ErrorInfo

BAD = Style(color="red", bold=True)
BOLD = Style(bold=True)
DIM = Style(dim=True)


def explain_error(info: ErrorInfo, *, gap: str = "\n") -> Text:
    """Title, what happened, what to do, the docs link, and whether a retry can help.
    `gap` separates the parts ("\\n\\n" where there is room)."""
    text = Text(end="")
    text.append(f"Error {info.code}: {info.title}\n", BAD)
    text.append(info.explanation + gap)
    text.append("What to do: ", BOLD)
    text.append(info.next_step + gap)
    text.append(info.docs_url, Style(underline=True))
    if info.retryable:
        text.append("\nSending it again later can help.", DIM)
    return text
