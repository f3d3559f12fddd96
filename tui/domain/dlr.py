"""The carrier's delivery-receipt time carried by a status callback (`RawDlrDoneDate`).

Owns turning `RawDlrDoneDate` into an aware UTC datetime. Twilio adds it to SMS/MMS status
callbacks whose status is `delivered` or `undelivered`: the "done date" of the carrier's
delivery receipt, as `YYMMDDhhmm` (ten digits, UTC)
(https://www.twilio.com/docs/messaging/guides/track-outbound-message-status).

A malformed value raises `DlrDateError`; callers keep the raw string and show the error,
since a carrier's odd receipt must never lose a callback.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

RAW_DLR_LENGTH: Final = 10
# Two-digit years are read as 20YY: the field is a receipt for a message just sent, so its
# year is the current one, and this century runs until 2099.
CENTURY: Final = 2000
_DIGITS = frozenset("0123456789")


class DlrDateError(ValueError):
    """A RawDlrDoneDate that is not a real `YYMMDDhhmm` time."""


def parse_raw_dlr_done_date(raw: str | None) -> datetime | None:
    """`RawDlrDoneDate` ("2507011930") as aware UTC (2025-07-01 19:30Z); None for None/""."""
    if raw is None or raw == "":
        return None
    text = raw.strip()
    shown = raw[:40]
    if len(text) != RAW_DLR_LENGTH:
        raise DlrDateError(
            f"RawDlrDoneDate '{shown}' has {len(text)} characters; "
            f"expected {RAW_DLR_LENGTH} digits (YYMMDDhhmm)."
        )
    if not set(text) <= _DIGITS:
        raise DlrDateError(f"RawDlrDoneDate '{shown}' must be digits only (YYMMDDhhmm).")
    year, month, day, hour, minute = (int(text[i : i + 2]) for i in range(0, 10, 2))
    try:
        return datetime(CENTURY + year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        raise DlrDateError(
            f"RawDlrDoneDate '{shown}' is not a real date and time (YYMMDDhhmm, UTC)."
        ) from None
