"""Whether presenter mode is on, for any widget or screen (the app owns the switch)."""

from __future__ import annotations

from textual.dom import DOMNode


def is_presenting(node: DOMNode) -> bool:
    # The app is looked up by attribute: widgets do not import the app module (layers).
    return bool(getattr(node.app, "presenting", False))
