"""Messages with their event timelines, as JSON Lines or CSV, for incident reports.

Reads the store page by page (newest first, the console's own keyset order), so an export
of a million messages holds one page in memory. What is exported is what the database
holds: no secret is ever stored there, so none can leak here. Request headers are left
out (the signature is noise in a report); the idempotency token stays, to match Twilio's
logs.

CSV cells holding free text (bodies, error messages, checked URLs) that start with a
character a spreadsheet would run as a formula get a leading apostrophe (OWASP's advice for
CSV injection): message bodies come from strangers.

A masked export (presenter mode, for reports shared beyond the team) hides people: their
numbers in from/to and in the callbacks' From/To/ForwardedFrom/WaId params, the bodies and
WhatsApp profile names they wrote, and phone numbers quoted inside error messages and
other params. Business senders, countries, SIDs, statuses and checked URLs stay.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tui.domain.masking import mask_address, mask_body, mask_numbers_in
from tui.store import MessageFilter, Store, StoredEvent, StoredMessage

PAGE = 500


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


CSV_COLUMNS = (
    "id", "sid", "local_id", "direction", "from", "to", "status", "error_code",
    "error_message", "num_segments", "num_media", "price", "price_unit", "created_at",
    "status_at", "date_sent", "send_at", "resend_of", "body", "timeline",
)  # fmt: skip
_FREE_TEXT = frozenset({"body", "error_message", "timeline"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Params naming a person (WaId is their WhatsApp number without the '+'), compared
# without case or underscores: callbacks say "From", API answers (create, fetch) "from".
_ADDRESS_PARAMS = frozenset({"from", "to", "forwardedfrom", "waid"})
# Params a person wrote: the message and their WhatsApp display name.
_TEXT_PARAMS = frozenset({"body", "profilename"})
# Presenter mode hides the account too (it is in API answers' account_sid and uri).
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
HIDDEN_ACCOUNT = "AC(hidden)"


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _masked_param(key: str, value: str) -> str | None:
    name = key.lower().replace("_", "")
    if name in _ADDRESS_PARAMS:
        return mask_address(value)
    if name in _TEXT_PARAMS:
        return mask_body(value)
    # Other params (ErrorMessage, ChannelStatusMessage...) may quote a number.
    return _ACCOUNT_SID.sub(HIDDEN_ACCOUNT, mask_numbers_in(value) or "")


def event_record(event: StoredEvent, *, masked: bool = False) -> dict[str, Any]:
    params = (
        [[key, _masked_param(key, value)] for key, value in event.params]
        if masked
        else [list(pair) for pair in event.params]
    )
    return {
        "at": iso(event.received_at),
        "kind": event.kind.value,
        "status": event.status,
        "error_code": event.error_code,
        "applied": event.applied,
        "signature": event.signature.value,
        "rejected_reason": event.rejected_reason,
        "checked_url": event.checked_url,
        "idempotency_token": event.idempotency_token,
        "params": params,
    }


def message_record(
    message: StoredMessage, events: list[StoredEvent], *, masked: bool = False
) -> dict[str, Any]:
    """`message` and its events as one export record; `masked` hides people (module doc)."""
    record: dict[str, Any] = {
        "id": message.id,
        "sid": message.sid,
        "local_id": message.local_id,
        "direction": message.direction,
        "from": message.from_addr,
        "to": message.to_addr,
        "status": message.status.value if message.status else None,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "num_segments": message.num_segments,
        "num_media": message.num_media,
        "price": message.price,
        "price_unit": message.price_unit,
        "created_at": iso(message.created_at),
        "status_at": iso(message.status_at),
        "date_sent": iso(message.date_sent),
        "send_at": iso(message.send_at),
        "resend_of": message.resend_of,
        "body": message.body,
        "events": [event_record(e, masked=masked) for e in events],
    }
    if masked:
        record |= {
            "from": mask_address(message.from_addr),
            "to": mask_address(message.to_addr),
            "error_message": mask_numbers_in(message.error_message),
            "body": mask_body(message.body),
        }
    return record


def _timeline(events: list[dict[str, Any]]) -> str:
    parts = []
    for e in events:
        what = e["status"] or "?"
        if e["error_code"]:
            what += f" ({e['error_code']})"
        if e["rejected_reason"]:
            what += f" REJECTED: {e['rejected_reason']}"
        parts.append(f"{e['at']} {e['kind']} {what}")
    return "; ".join(parts)


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column in _FREE_TEXT and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_line(record: dict[str, Any]) -> str:
    row = dict(record, timeline=_timeline(record["events"]))
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_cell(c, row.get(c)) for c in CSV_COLUMNS])
    return buffer.getvalue()


def csv_header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_COLUMNS)
    return buffer.getvalue()


async def export_lines(
    store: Store, fmt: ExportFormat, flt: MessageFilter | None = None, *, masked: bool = False
) -> AsyncIterator[str]:
    """The export, one line (with its newline) at a time; `masked` hides people."""
    if fmt is ExportFormat.CSV:
        yield csv_header()
    cursor = None
    while True:
        page = await store.page(flt, after=cursor, limit=PAGE)
        for message in page.rows:
            record = message_record(message, await store.events_for(message.id), masked=masked)
            if fmt is ExportFormat.CSV:
                yield csv_line(record)
            else:
                yield json.dumps(record, ensure_ascii=False) + "\n"
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
