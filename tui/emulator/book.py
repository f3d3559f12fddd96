"""The emulator's messages, and the list API's filtering and paging.

Paging follows the REST API: newest first, `PageSize` 1-1000 (default 50), `Page` as the
client's own counter, `PageToken` as the opaque position, and every `*_page_uri` relative
(the SDK joins it to its own base URL, which is how it keeps talking to the emulator).
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from .model import ApiError, EmulatedMessage, account_path

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000  # larger values get error 20007 (twilio-notes §4, PageSize quirk)
_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


class MessageBook:
    def __init__(self) -> None:
        self._messages: dict[str, EmulatedMessage] = {}
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, message: EmulatedMessage) -> None:
        self._messages[message.sid] = message

    def get(self, account_sid: str, sid: str) -> EmulatedMessage:
        message = self._messages.get(sid)
        if message is None or message.account_sid != account_sid:
            raise ApiError(404, 20404, f"The requested resource {sid} was not found")
        return message

    def remove(self, sid: str) -> None:
        self._messages.pop(sid, None)

    def __iter__(self) -> Iterator[EmulatedMessage]:
        return iter(list(self._messages.values()))

    def __len__(self) -> int:
        return len(self._messages)

    def page(
        self, account_sid: str, query: Sequence[tuple[str, str]], path: str
    ) -> dict[str, object]:
        """The list envelope for `GET .../Messages.json?query`."""
        params = first_values(query)
        size = _page_size(params.get("PageSize"))
        page_no = _non_negative(params.get("Page"), "Page")
        token = params.get("PageToken")
        matching = sorted(
            (m for m in self._messages.values() if m.account_sid == account_sid),
            key=lambda m: (m.date_created, m.seq),
            reverse=True,
        )
        days = {name: _day(params[name], name) for name in _FILTERS[2:] if name in params}
        matching = [m for m in matching if _matches(m, params, days)]
        start_index = 0
        if token:
            start_index = _after_token(matching, token)
        rows = matching[start_index : start_index + size]
        kept = [(k, params[k]) for k in _FILTERS if k in params]

        def uri(page: int, page_token: str | None) -> str:
            q = [*kept, ("PageSize", str(size)), ("Page", str(page))]
            if page_token:
                q.append(("PageToken", page_token))
            return f"{path}?{urlencode(q)}"

        more = start_index + size < len(matching)
        next_uri = uri(page_no + 1, f"PA{rows[-1].sid}") if more and rows else None
        prev_uri = None
        if page_no > 0 and start_index > 0:
            prev_start = max(0, start_index - size)
            prev_token = f"PA{matching[prev_start - 1].sid}" if prev_start > 0 else None
            prev_uri = uri(page_no - 1, prev_token)
        return {
            "end": page_no * size + max(len(rows) - 1, 0),
            "first_page_uri": uri(0, None),
            "messages": [m.to_resource() for m in rows],
            "next_page_uri": next_uri,
            "page": page_no,
            "page_size": size,
            "previous_page_uri": prev_uri,
            "start": page_no * size,
            "uri": uri(page_no, token),
        }


def messages_path(account_sid: str) -> str:
    return f"{account_path(account_sid)}/Messages.json"


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    size = _non_negative(raw, "PageSize")
    if size < 1 or size > MAX_PAGE_SIZE:
        raise ApiError(400, 20007, f"PageSize must be between 1 and {MAX_PAGE_SIZE}.")
    return size


def _non_negative(raw: str | None, name: str) -> int:
    if raw is None or raw == "":
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, 20001, f"{name} must be a whole number, not {raw!r}.") from None
    if value < 0:
        raise ApiError(400, 20001, f"{name} must not be negative.")
    return value


def _after_token(rows: list[EmulatedMessage], token: str) -> int:
    sid = token[2:] if token.startswith("PA") else token
    for index, message in enumerate(rows):
        if message.sid == sid:
            return index + 1
    raise ApiError(400, 20001, f"PageToken {token} is not valid for this list.")


def _day(raw: str, name: str) -> date:
    """DateSent filters: the docs describe YYYY-MM-DD (GMT); the spec types them date-time."""
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, 20001, f"{name} must be a date like 2025-07-01, not {raw!r}.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.date()


def first_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Each parameter's first value, as the create form reads them (a repeat is ignored)."""
    values: dict[str, str] = {}
    for key, value in pairs:
        values.setdefault(key, value)
    return values


def page_bounds(params: dict[str, str]) -> tuple[int, int]:
    """(PageSize, Page) checked as the list API checks them."""
    return _page_size(params.get("PageSize")), _non_negative(params.get("Page"), "Page")


def _matches(message: EmulatedMessage, params: dict[str, str], days: dict[str, date]) -> bool:
    if "To" in params and message.to != params["To"]:
        return False
    if "From" in params and message.from_ != params["From"]:
        return False
    sent = message.date_sent.astimezone(UTC).date() if message.date_sent else None
    # The inequality is part of the parameter's name: "DateSent<" is on-and-before.
    tests = (("DateSent", operator.eq), ("DateSent<", operator.le), ("DateSent>", operator.ge))
    for name, test in tests:
        if name in days and (sent is None or not test(sent, days[name])):
            return False
    return True
