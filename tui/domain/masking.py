"""Showing that a secret is set without showing the secret."""

from __future__ import annotations

VISIBLE = 4  # the last characters shown, enough to tell two tokens apart


def mask_secret(secret: str) -> str:
    """`********abcd`: at least four stars, and never more than the last 4 characters shown
    (none at all for a secret so short that 4 would be most of it)."""
    if len(secret) <= 2 * VISIBLE:
        return "*" * 8
    return "*" * (len(secret) - VISIBLE) + secret[-VISIBLE:]
