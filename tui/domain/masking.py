"""Showing that a secret is set without showing the secret; shortening long SIDs."""

from __future__ import annotations

VISIBLE = 4  # the last characters shown, enough to tell two tokens apart


def mask_secret(secret: str) -> str:
    """`********abcd`: at least four stars, and never more than the last 4 characters shown
    (none at all for a secret so short that 4 would be most of it)."""
    if len(secret) <= 2 * VISIBLE:
        return "*" * 8
    return "*" * (len(secret) - VISIBLE) + secret[-VISIBLE:]


def short_sid(sid: str) -> str:
    """`AC12…cdef`: a SID is not a secret, but 34 characters crowd a header or a field
    list; the first four and last four tell accounts apart."""
    return sid if len(sid) <= 10 else f"{sid[:4]}\u2026{sid[-4:]}"
