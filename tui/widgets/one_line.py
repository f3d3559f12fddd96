"""Replacing the text of a one-line Static cheaply: only when it changed, and without a
layout pass.

`Static.update` re-arranges the whole screen by default (the new content might change
the widget's size). The header and status lines are one cell high whatever they say and
change up to 20 times a second under load; with the compose pane's thirty widgets on
screen, those layout passes were a quarter of the event loop (py-spy, bench/console.py).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def set_line(widget: Static, text: Text) -> None:
    """Show `text` in a fixed-height `widget`, repainting it only if it differs."""
    if widget.content != text:
        widget.update(text, layout=False)
