"""One message as one line of the list: which columns fit a width, and their text.

Every value that came from outside (numbers, bodies, error text) goes through
`safe_text`, and everything is built as `Text` from plain strings, never from markup.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache

from rich.style import Style
from rich.text import Text

from tui.domain.addresses import region_code_of
from tui.domain.masking import mask_address, mask_body
from tui.store import StoredMessage

from .safe_text import preview, sanitize
from .status_badge import BADGE_WIDTH, LARGE_BADGE_WIDTH, badge


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    width: int  # 0: takes what is left


# In the order shown; the optional ones go first when the terminal is narrow.
TIME = Column("time", "time", 8)
# From this width on, rows from earlier days show the hour as well as the day.
TIME_WIDE = Column("time", "time", 11)
WIDE_FROM = 100
DIRECTION = Column("dir", "", 1)
PARTY = Column("party", "to / from", 17)
STATUS = Column("status", "status", BADGE_WIDTH)
LARGE_STATUS = Column("status", "status", LARGE_BADGE_WIDTH)
ERROR = Column("error", "error", 5)
SEGMENTS = Column("segments", "seg", 3)
PRICE = Column("price", "price", 9)
BODY = Column("body", "body", 0)

_ALL = (TIME, DIRECTION, PARTY, STATUS, ERROR, SEGMENTS, PRICE, BODY)
# Dropped in this order as width shrinks; the body keeps at least this many cells.
_OPTIONAL = (PRICE, SEGMENTS)
MIN_BODY = 20
GAP = 1


def columns_for(width: int, present: bool = False) -> tuple[Column, ...]:
    columns = list(_ALL)
    if width >= WIDE_FROM:
        columns[0] = TIME_WIDE
    if present:
        columns[columns.index(STATUS)] = LARGE_STATUS
    for optional in _OPTIONAL:
        used = sum(c.width for c in columns) + GAP * (len(columns) - 1)
        if width - used >= MIN_BODY:
            break
        columns.remove(optional)
    return tuple(columns)


def heading(width: int, present: bool = False) -> Text:
    text = Text(no_wrap=True, end="")
    for i, column in enumerate(columns_for(width, present)):
        if i:
            text.append(" " * GAP)
        text.append(_fit(column.title, _width_of(column, width, present)))
    return text


def _width_of(column: Column, total: int, present: bool = False) -> int:
    if column.width:
        return column.width
    fixed = [c for c in columns_for(total, present) if c.width]
    used = sum(c.width for c in fixed) + GAP * len(fixed)
    return max(1, total - used)


def _fit(text: str, width: int) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


@lru_cache(maxsize=4096)
def region_of(address: str | None) -> str:
    """The ISO country of a number ("GB"), or "" for short codes, names and unknowns."""
    return region_code_of(address) or ""


def party_of(message: StoredMessage) -> str:
    """The other side: who it went to, or who sent it for inbound messages."""
    inbound = (message.direction or "") == "inbound"
    return (message.from_addr if inbound else message.to_addr) or ""


def format_time(epoch: float, now: float | None = None, width: int = 8) -> str:
    """HH:MM:SS today (local time); before today "MM-DD HH:MM" when `width` allows,
    else "Jan 02"."""
    now = time.time() if now is None else now
    local = time.localtime(epoch)
    if time.localtime(now)[:3] == local[:3]:
        return time.strftime("%H:%M:%S", local)
    if width >= 11:
        return time.strftime("%m-%d %H:%M", local)
    return time.strftime("%b %d", local)


_BULLETS = re.compile("•{5,}")
DIM = Style(dim=True)
ERROR_STYLE = Style(color="red", bold=True)
INBOUND_STYLE = Style(color="yellow", bold=True)


def render_row(
    message: StoredMessage, width: int, now: float | None = None, *, present: bool = False
) -> Text:
    """One row; `present` masks the party and the body and enlarges the badge."""
    text = Text(no_wrap=True, end="", overflow="crop")
    for i, column in enumerate(columns_for(width, present)):
        if i:
            text.append(" " * GAP)
        w = _width_of(column, width, present)
        key = column.key
        if key == "time":
            text.append(_fit(format_time(message.created_at, now, w), w), DIM)
        elif key == "dir":
            inbound = (message.direction or "") == "inbound"
            text.append("←" if inbound else "→", INBOUND_STYLE if inbound else DIM)
        elif key == "party":
            party = sanitize(party_of(message))
            region = region_of(party)
            if present:
                # The number of hidden digits tells an audience nothing: four dots keep
                # the country code and the last two digits inside the column.
                party = _BULLETS.sub("••••", mask_address(party) or "")
            number = _fit(party, w - 3) if region else _fit(party, w)
            text.append(number)
            if region:
                text.append(f" {region:2}", DIM)
        elif key == "status":
            text.append_text(badge(message.status, w, large=present))
        elif key == "error":
            code = str(message.error_code) if message.error_code else ""
            text.append(_fit(code, w), ERROR_STYLE)
        elif key == "segments":
            text.append(str(message.num_segments or "").rjust(w), DIM)
        elif key == "price":
            text.append(_fit(_price(message), w), DIM)
        else:
            body = mask_body(message.body) if present else message.body
            text.append(_fit(preview(body, w + 1), w))
    return text


def _price(message: StoredMessage) -> str:
    if not message.price:
        return ""
    unit = message.price_unit or ""
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(unit.upper(), "")
    amount = sanitize(message.price).lstrip("-")
    return f"{symbol}{amount}" if symbol else f"{amount} {sanitize(unit)}"
