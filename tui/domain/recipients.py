"""A pasted or loaded list of recipients for a bulk send.

Owns how such a list is split into addresses, which entries are refused and why (with
their line numbers, so a person can fix the file), deduplication, and the cap on how many
recipients one bulk send may have. Each entry is checked exactly as a single message's To
is (`tui.domain.addresses.parse_to`).

Splitting is deliberately simple and predictable: one or more entries per line, separated
by commas, semicolons or tabs (so a CSV or spreadsheet column pastes as it is); a line
whose first non-blank character is '#' is a comment. Single spaces do not separate
entries, because people write numbers with them ("+44 7400 123456").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tui.domain.addresses import AddressError, parse_to

MAX_RECIPIENTS: Final = 10_000
RAW_SHOWN_MAX: Final = 40

_SEPARATORS = re.compile(r"[,;\t]")


@dataclass(frozen=True, slots=True)
class BadRecipient:
    """An entry that is not a valid To."""

    line: int  # 1-based line number in the text
    raw: str  # the entry as written (cut to 40 characters)
    message: str  # why, as AddressError words it


@dataclass(frozen=True, slots=True)
class RecipientList:
    """The outcome of reading a list: who gets the message, and what was left out."""

    valid: tuple[str, ...]  # normalized (E.164 or whatsapp:+...), first occurrence order
    duplicates: int  # entries that repeated an earlier valid one, once normalized
    invalid: tuple[BadRecipient, ...]
    truncated: bool  # more than `limit` distinct valid recipients; only the first kept


def _shown(token: str) -> str:
    return token if len(token) <= RAW_SHOWN_MAX else token[: RAW_SHOWN_MAX - 1] + "\u2026"


def parse_recipients(
    text: str, *, limit: int = MAX_RECIPIENTS, strict: bool = True
) -> RecipientList:
    """The recipients in `text`, one or more per line (see the module docstring).

    Reading stops at the first distinct valid recipient past `limit`: the list is cut
    there, so `duplicates` and `invalid` cover the text up to that point only; there is
    no use validating entries that cannot be sent to. `strict` is `parse_to`'s.
    """
    if limit < 0:
        raise ValueError("limit must be 0 or more.")
    valid: dict[str, None] = {}  # insertion-ordered set
    duplicates = 0
    invalid: list[BadRecipient] = []
    # A file saved by a spreadsheet may open with a byte-order mark; it is not an entry.
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for piece in _SEPARATORS.split(line):
            token = piece.strip()
            if not token:
                continue
            try:
                address = parse_to(token, strict=strict).normalized
            except AddressError as exc:
                invalid.append(BadRecipient(number, _shown(token), exc.message))
                continue
            if address in valid:
                duplicates += 1
                continue
            if len(valid) >= limit:
                return RecipientList(tuple(valid), duplicates, tuple(invalid), truncated=True)
            valid[address] = None
    return RecipientList(tuple(valid), duplicates, tuple(invalid), truncated=False)
