"""The console's filter query language: parsing, completion and a one-line summary.

Owns what a person may type in the filter bar (`/`), how it becomes a `MessageFilter` for
the store, the errors shown for what is wrong (with the character span to underline), the
completions offered for the token under the cursor, and the named presets of the command
palette. Pure: no Textual, no I/O; `now` and the stuck threshold are passed in.

Grammar: whitespace-separated terms, all of which must hold (AND). Keys are
case-insensitive; a value may be double-quoted to hold spaces (`\\"` and `\\\\` escape
inside quotes).

    status:undelivered,failed   statuses (comma list); also the groups `problem`
                                (failed, undelivered, partially_delivered), `inflight`
                                and `final`
    error:30007,30003           Twilio error codes
    to:+44   from:whatsapp:+1   prefix of the stored address; in phone-like values
                                spaces, dashes, dots and parentheses are dropped, so
                                `to:"+1 (415) 555"` means `+1415555`
    since:1h   until:2026-01-15 created at/after (since) or before (until): `30s`, `15m`,
                                `1h`, `2d`, `1w` (combinable: `1h30m`) ago, or an ISO date
                                or datetime (naive means UTC)
    text:"order 123"   order    words in the body; a bare word is body text too
    dir:in   dir:out            inbound or outbound
    stuck                       in flight, status unchanged for longer than the threshold

Decisions a user would otherwise have to guess:

- Repeated `status:` and `error:` add to the set (`status:failed status:undelivered` is
  either of them), as does body text (every word must appear). Repeating `to:`, `from:`,
  `dir:`, `since:` or `until:` is an error: a message has one recipient and one creation
  time, so ANDing two would match nothing and silently keeping the last would hide a typo.
- Empty items in comma lists are ignored (`status:failed,` while typing), but a key with
  no value at all is an error.
- A date-only `until:` includes that day (`until:2026-01-15` is before the 16th, UTC), so
  `since:X until:X` is the day X.
- `stuck` narrows to the in-flight statuses. Combined with a status that is never in
  flight (`status:delivered stuck`) it is an error rather than an empty list.
- The bare word `stuck` is the keyword; to search bodies for it, write `text:stuck`.
  Likewise a bare `word:` is read as a key; quote it (`"re:order"`) to search for it.
- Quoting only groups words: the store matches each word as a prefix, not as a phrase.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NoReturn

from tui.domain.errors import CATALOG
from tui.domain.status import IN_FLIGHT, PROBLEM, TERMINAL, MessageStatus
from tui.store import MessageFilter

S = MessageStatus

__all__ = [
    "KEYS",
    "PRESETS",
    "Completion",
    "ParsedQuery",
    "QueryError",
    "complete",
    "describe",
    "parse_query",
]


class QueryError(ValueError):
    """What is wrong with a query, in one sentence, and where (`text[start:end]`)."""

    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = max(start, end)

    def __repr__(self) -> str:
        return f"QueryError({self.message!r}, {self.start}, {self.end})"


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str  # the query as typed
    filter: MessageFilter
    stuck: bool  # the `stuck` keyword was present


@dataclass(frozen=True, slots=True)
class Completion:
    replacement: str  # the whole new query text after accepting
    cursor: int  # cursor position after accepting
    label: str  # what a dropdown shows, e.g. "status:undelivered"
    help: str  # short description


# Key -> help, in the order completion offers them. `stuck` is a bare keyword.
KEYS: dict[str, str] = {
    "status": "delivery status, e.g. status:undelivered,failed",
    "error": "Twilio error code, e.g. error:30007",
    "to": "recipient address starts with, e.g. to:+44",
    "from": "sender address starts with, e.g. from:+1415",
    "since": "created within, e.g. since:1h or since:2026-01-15",
    "until": "created before, e.g. until:2026-01-15",
    "text": 'words in the body, e.g. text:"order 123"',
    "dir": "direction: in or out",
    "stuck": "in flight with no status change for too long",
}
_VALUE_KEYS = tuple(k for k in KEYS if k != "stuck")

STATUS_HELP: dict[MessageStatus, str] = {
    S.ACCEPTED: "accepted by a Messaging Service, not yet queued",
    S.SCHEDULED: "waiting for its scheduled send time",
    S.QUEUED: "queued at Twilio",
    S.SENDING: "being handed to the carrier",
    S.SENT: "the carrier took it; no delivery receipt yet",
    S.FAILED: "never sent: Twilio could not send it",
    S.DELIVERED: "the carrier confirmed delivery",
    S.UNDELIVERED: "did not reach the handset",
    S.RECEIVING: "inbound, still arriving",
    S.RECEIVED: "inbound, arrived",
    S.READ: "the recipient read it (WhatsApp, RCS)",
    S.CANCELED: "a scheduled message that was canceled",
    S.PARTIALLY_DELIVERED: "some parts did not arrive (deprecated by Twilio)",
}

# Group words of `status:`, with what they stand for.
STATUS_GROUPS: dict[str, tuple[frozenset[MessageStatus], str]] = {
    "problem": (PROBLEM, "failed, undelivered or partially delivered"),
    "inflight": (IN_FLIGHT, "still waiting on Twilio or the carrier"),
    "final": (TERMINAL, "no further change expected"),
}
# Spellings people type for the groups; only the canonical ones are offered.
_GROUP_ALIASES = {"in_flight": "inflight", "terminal": "final", "problems": "problem"}

_DIRECTIONS: dict[str, str] = {
    "in": "inbound",
    "inbound": "inbound",
    "out": "outbound",
    "outbound": "outbound",
}
_DIRECTION_HELP = {"in": "received by your numbers", "out": "sent from your account"}

_DURATION_OFFERS = ("15m", "1h", "6h", "24h", "7d")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}
_DURATION = re.compile(r"(?:[0-9]+[smhdw])+", re.ASCII | re.IGNORECASE)
_DURATION_PART = re.compile(r"([0-9]+)([smhdw])", re.ASCII | re.IGNORECASE)
_KEY = re.compile(r"[A-Za-z][A-Za-z_-]*", re.ASCII)
# Twilio's codes are five digits; six leaves room (as the error catalog does).
_MAX_CODE_DIGITS = 6
_MAX_DURATION_DIGITS = 9  # 999999999 weeks is already past datetime.min
# What people put inside phone numbers: spaces, dashes of every kind, dots, brackets.
_PHONE_FORMATTING = frozenset(" \t\u00a0-\u2010\u2011\u2012\u2013\u2014\u2212().[]/")
_PHONE_CHARS = frozenset("+0123456789") | _PHONE_FORMATTING
_CHANNEL = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.ASCII | re.DOTALL)

PRESETS: dict[str, str] = {
    "undelivered": "status:undelivered,failed",
    "stuck": "stuck",
    "in flight": "status:inflight",
    "inbound": "dir:in",
    "outbound": "dir:out",
    "errors last hour": "status:undelivered,failed since:1h",
    "problems today": "status:problem since:24h",
    "carrier filtering": "error:30007",
    "scheduled": "status:scheduled",
}


# --- Tokens ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Term:
    """One whitespace-separated term, quotes removed. `pos[i]` is where `chars[i]` sits in
    the query, so any piece of a value can be underlined exactly, quoted or not."""

    start: int
    end: int
    chars: list[str] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)
    quoted: list[bool] = field(default_factory=list)
    open_quote: int | None = None  # where an unterminated quote began
    colon: int = -1  # index in `chars` of the key's colon, -1 for a bare term

    def add(self, char: str, at: int, quoted: bool) -> None:
        self.chars.append(char)
        self.pos.append(at)
        self.quoted.append(quoted)

    @property
    def key(self) -> str | None:
        return "".join(self.chars[: self.colon]).lower() if self.colon >= 0 else None

    @property
    def key_span(self) -> tuple[int, int]:
        return self.start, self.pos[self.colon] + 1

    @property
    def value(self) -> str:
        return "".join(self.chars[self.colon + 1 :])

    @property
    def value_start(self) -> int:
        """Index into `text` right after the colon (or the term's start, if bare)."""
        return self.pos[self.colon] + 1 if self.colon >= 0 else self.start

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Span in the query of `chars[i:j]`; an empty piece is a point at its place."""
        if i < j:
            return self.pos[i], self.pos[j - 1] + 1
        if i < len(self.pos):
            return self.pos[i], self.pos[i]
        return self.end, self.end


def _tokenize(text: str) -> list[_Term]:
    """Split into terms. Never raises: an unterminated quote is recorded on its term, so
    completion can work on a half-typed query and parsing can report it."""
    terms: list[_Term] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        term = _Term(start=i, end=i)
        in_quote = False
        while i < n:
            c = text[i]
            if in_quote:
                if c == "\\" and i + 1 < n and text[i + 1] in '"\\':
                    term.add(text[i + 1], i + 1, True)
                    i += 2
                    continue
                if c == '"':
                    in_quote = False
                else:
                    term.add(c, i, True)
                i += 1
            elif c.isspace():
                break
            elif c == '"':
                in_quote, term.open_quote = True, i
                i += 1
            else:
                term.add(c, i, False)
                i += 1
        term.end = i
        if not in_quote:
            term.open_quote = None
        term.colon = _find_key_colon(term)
        terms.append(term)
    return terms


def _find_key_colon(term: _Term) -> int:
    # Only an unquoted `word:` at the start is a key, so `"re:order"` stays body text.
    for i, (c, q) in enumerate(zip(term.chars, term.quoted, strict=True)):
        if q:
            return -1
        if c == ":":
            return i if _KEY.fullmatch("".join(term.chars[:i])) else -1
    return -1


def _items(term: _Term) -> list[tuple[str, int, int]]:
    """The comma-separated items of a value: (stripped text, start, end) as char indices."""
    items: list[tuple[str, int, int]] = []
    i = term.colon + 1
    n = len(term.chars)
    while i <= n:
        j = i
        while j < n and term.chars[j] != ",":
            j += 1
        while i < j and term.chars[i].isspace():
            i += 1
        k = j
        while k > i and term.chars[k - 1].isspace():
            k -= 1
        items.append(("".join(term.chars[i:k]), i, k))
        i = j + 1
    return items


# --- Parsing -----------------------------------------------------------------------------


def _quote(value: str, limit: int = 30) -> str:
    shown = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(shown)


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    choices = list(choices)
    lowered = word.lower()
    # A prefix either way is the likeliest intent ("stat" -> status, "direction" -> dir),
    # and difflib alone scores short keys too low to suggest them.
    prefixed = [c for c in choices if lowered and (c.startswith(lowered) or lowered.startswith(c))]
    if prefixed:
        return difflib.get_close_matches(lowered, prefixed, n=1, cutoff=0)[0]
    close = difflib.get_close_matches(lowered, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _duration(value: str) -> timedelta | None:
    if not _DURATION.fullmatch(value):
        return None
    total = timedelta()
    for digits, unit in _DURATION_PART.findall(value):
        digits = digits.lstrip("0") or "0"
        if len(digits) > _MAX_DURATION_DIGITS:
            raise OverflowError(value)
        total += timedelta(**{_UNITS[unit.lower()]: int(digits)})
    return total


def _parse_time(key: str, value: str, now: datetime, span: tuple[int, int]) -> datetime:
    """The moment `value` names, in UTC. A bare date in `until:` gives the next midnight:
    "until the 15th" reads as "up to and including the 15th"."""
    example = f"use 30s, 15m, 1h, 2d, 1w or a date such as {key}:2026-01-15"
    try:
        ago = _duration(value)
        if ago is not None:
            return (now - ago).astimezone(UTC)
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            moment = datetime.combine(day, time(), UTC)
            return moment + timedelta(days=1) if key == "until" else moment
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise QueryError(
                f"{key}: does not understand {_quote(value)}; {example}.", *span
            ) from None
        # UTC throughout, so comparing and showing times can never overflow later.
        return _aware(moment).astimezone(UTC)
    except OverflowError:
        raise QueryError(f"{key}: {_quote(value)} is out of range; {example}.", *span) from None


def _normalise_address(value: str) -> str:
    """`whatsapp:+1 (415)` -> `whatsapp:+1415`: the form addresses are stored in.

    Only phone-like values lose their formatting; an alphanumeric sender ID such as
    `My-Shop` is kept as typed."""
    channel, rest = "", value
    match = _CHANNEL.fullmatch(value)
    if match:
        channel, rest = match.group(1).lower() + ":", match.group(2)
    stripped = rest.strip()
    if stripped and set(stripped) <= _PHONE_CHARS and any(c.isdigit() for c in stripped):
        rest = "".join(c for c in stripped if c not in _PHONE_FORMATTING)
    return channel + rest


# Why a key may appear only once (all terms must hold, so two would mean "both").
_ONCE_REASONS = {
    "to": "a message has one recipient",
    "from": "a message has one sender",
    "dir": "a message goes one way",
    "since": "a query has one start time",
    "until": "a query has one end time",
}


@dataclass(slots=True)
class _Builder:
    """Accumulates terms into a filter, remembering spans for the cross-term checks."""

    now: datetime
    # Each status with the word that asked for it and its span, for the stuck check.
    statuses: dict[MessageStatus, tuple[str, int, int]] = field(default_factory=dict)
    errors: set[int] = field(default_factory=set)
    text: list[str] = field(default_factory=list)
    single: dict[str, str] = field(default_factory=dict)  # to, from, dir
    times: dict[str, tuple[datetime, tuple[int, int]]] = field(default_factory=dict)
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # single keys' spans
    stuck: bool = False
    stuck_span: tuple[int, int] = (0, 0)

    def once(self, key: str, term: _Term) -> None:
        if key in self.seen:
            raise QueryError(
                f"{key}: is given twice; {_ONCE_REASONS[key]}, so keep one.", term.start, term.end
            )
        self.seen[key] = (term.start, term.end)


def _value_or_error(key: str, term: _Term, example: str) -> str:
    value = term.value.strip()
    if not value:
        raise QueryError(
            f"{key}: needs a value after the colon, e.g. {example}.", term.start, term.end
        )
    return value


def _add_statuses(b: _Builder, term: _Term) -> None:
    items = [item for item in _items(term) if item[0]]
    if not items:
        raise QueryError(
            "status: needs a status after the colon, e.g. status:undelivered,failed.",
            term.start,
            term.end,
        )
    for word, i, j in items:
        span = term.span(i, j)
        name = word.lower().replace("-", "_")
        name = _GROUP_ALIASES.get(name, name)
        if name in STATUS_GROUPS:
            for status in STATUS_GROUPS[name][0]:
                b.statuses.setdefault(status, (word, *span))
            continue
        try:
            status = MessageStatus(name)
        except ValueError:
            names = [s.value for s in MessageStatus] + list(STATUS_GROUPS)
            guess = _suggest(name, names)
            hint = f"did you mean {guess}?" if guess else f"use one of {', '.join(names)}."
            raise QueryError(f"unknown status {_quote(word)}: {hint}", *span) from None
        b.statuses.setdefault(status, (word, *span))


def _add_errors(b: _Builder, term: _Term) -> None:
    items = [item for item in _items(term) if item[0]]
    if not items:
        raise QueryError(
            "error: needs an error code after the colon, e.g. error:30007.", term.start, term.end
        )
    for word, i, j in items:
        span = term.span(i, j)
        if not (word.isascii() and word.isdigit()):
            raise QueryError(
                f"error code {_quote(word)} is not a number; Twilio's codes are numbers, "
                "e.g. error:30007.",
                *span,
            )
        digits = word.lstrip("0")  # int() refuses very long strings; check length first
        if not digits or len(digits) > _MAX_CODE_DIGITS:
            raise QueryError(
                f"error code {_quote(word)} is not a Twilio error code (1 to 6 digits).", *span
            )
        b.errors.add(int(digits))


def _add_address(b: _Builder, key: str, term: _Term) -> None:
    b.once(key, term)
    raw = _value_or_error(key, term, f"{key}:+44")
    b.single[key] = _normalise_address(raw)


def _add_time(b: _Builder, key: str, term: _Term) -> None:
    b.once(key, term)
    value = _value_or_error(key, term, f"{key}:1h")
    span = (term.value_start, term.end)
    b.times[key] = (_parse_time(key, value, b.now, span), (term.start, term.end))


def _add_direction(b: _Builder, term: _Term) -> None:
    b.once("dir", term)
    value = _value_or_error("dir", term, "dir:in")
    direction = _DIRECTIONS.get(value.lower())
    if direction is None:
        guess = _suggest(value, _DIRECTIONS)
        hint = f"did you mean dir:{guess}?" if guess else "use dir:in or dir:out."
        raise QueryError(f"unknown direction {_quote(value)}: {hint}", term.value_start, term.end)
    b.single["dir"] = direction


def _add_text(b: _Builder, term: _Term) -> None:
    value = _value_or_error("text", term, 'text:"order 123"')
    b.text.append(" ".join(value.split()))


def _add_term(b: _Builder, term: _Term) -> None:
    key = term.key
    if key is None:
        words = "".join(term.chars)
        if words.lower() == "stuck" and not any(term.quoted):
            b.stuck, b.stuck_span = True, (term.start, term.end)
        elif words.strip():
            b.text.append(" ".join(words.split()))
        return
    match key:
        case "status":
            _add_statuses(b, term)
        case "error":
            _add_errors(b, term)
        case "to" | "from":
            _add_address(b, key, term)
        case "since" | "until":
            _add_time(b, key, term)
        case "text":
            _add_text(b, term)
        case "dir":
            _add_direction(b, term)
        case "stuck":
            raise QueryError("stuck takes no value; write just stuck.", term.start, term.end)
        case _:
            _unknown_key(term)


def _unknown_key(term: _Term) -> NoReturn:
    key = term.key or ""
    shown = "".join(term.chars[: term.colon])
    guess = _suggest(key, KEYS)
    if guess == "stuck":
        hint = "did you mean stuck (with no value)?"
    elif guess:
        hint = f"did you mean {guess}:?"
    else:
        keys = ", ".join(k + ":" for k in _VALUE_KEYS)
        hint = f'keys are {keys} and stuck; to search for it, quote it: "{shown}:".'
    raise QueryError(f"unknown key {_quote(shown + ':')}: {hint}", *term.key_span)


def _in_flight_names() -> str:
    return ", ".join(s.value for s in MessageStatus if s in IN_FLIGHT)


def parse_query(text: str, *, now: datetime, stuck_after: timedelta) -> ParsedQuery:
    """The filter `text` asks for. Raises `QueryError` (and nothing else) when it is wrong.

    `now` anchors relative times (`since:1h`) and `stuck`; a naive `now` is taken as UTC.
    """
    now = _aware(now)
    b = _Builder(now=now)
    for term in _tokenize(text):
        if term.open_quote is not None:
            raise QueryError('unterminated quote: add a closing ".', term.open_quote, len(text))
        _add_term(b, term)

    statuses = frozenset(b.statuses)
    status_before: datetime | None = None
    if b.stuck:
        not_in_flight = [b.statuses[s] for s in b.statuses if s not in IN_FLIGHT]
        if not_in_flight:
            word, start, end = min(not_in_flight, key=lambda found: found[1])
            raise QueryError(
                f"stuck means still in flight ({_in_flight_names()}), and {_quote(word)} is "
                "not; drop one of them.",
                start,
                end,
            )
        statuses = statuses or IN_FLIGHT
        try:
            status_before = now - stuck_after
        except OverflowError:
            raise QueryError("the stuck threshold is too long.", *b.stuck_span) from None

    since = b.times.get("since")
    until = b.times.get("until")
    if since and until and since[0] >= until[0]:
        later = max(since[1], until[1])
        raise QueryError("since: is not before until:, so nothing can match.", *later)

    flt = MessageFilter(
        statuses=statuses,
        error_codes=frozenset(b.errors),
        to_addr=b.single.get("to"),
        from_addr=b.single.get("from"),
        text=" ".join(b.text) or None,
        since=since[0] if since else None,
        until=until[0] if until else None,
        direction=b.single.get("dir"),
        status_before=status_before,
    )
    return ParsedQuery(text=text, filter=flt, stuck=b.stuck)


# --- Completion --------------------------------------------------------------------------


def _replace(text: str, start: int, end: int, new: str, label: str, help: str) -> Completion:
    return Completion(text[:start] + new + text[end:], start + len(new), label, help)


def _duration_help(key: str, value: str) -> str:
    amount, unit = int(value[:-1]), value[-1]
    words = f"{amount} {_UNIT_WORDS[unit]}{'s' if amount != 1 else ''}"
    return f"the last {words}" if key == "since" else f"more than {words} ago"


def complete(text: str, cursor: int) -> list[Completion]:
    """Candidates for the token under `cursor`, each replacing only that token (or, in a
    comma list, only the item under the cursor). Never raises."""
    cursor = max(0, min(cursor, len(text)))
    term = next((t for t in _tokenize(text) if t.start <= cursor <= t.end), None)
    if term is None:  # in whitespace: a new term starts here
        return [_key_completion(text, cursor, cursor, key) for key in KEYS]
    upto = sum(1 for at in term.pos if at < cursor)  # chars of the term before the cursor
    if term.colon < 0 or upto <= term.colon:
        return _complete_key(text, term, cursor)
    key = term.key or ""
    # The comma item under the cursor: everything typed since the last comma.
    item_start = term.colon + 1
    for i in range(term.colon + 1, upto):
        if term.chars[i] == ",":
            item_start = i + 1
    item_end = item_start
    while item_end < len(term.chars) and term.chars[item_end] != ",":
        item_end += 1
    prefix = "".join(term.chars[item_start:upto]).strip().lower()
    # Right after the colon or comma when the item is empty; quotes around it stay put.
    start = term.pos[item_start] if item_start < len(term.pos) else term.pos[item_start - 1] + 1
    end = term.pos[item_end - 1] + 1 if item_end > item_start else start
    if key == "status":
        others = {w.lower() for w, _, _ in _items(term)} - {prefix}
        return [
            _replace(text, start, end, name, f"status:{name}", help)
            for name, help in _status_candidates()
            if name.startswith(prefix) and name not in others
        ]
    if key == "error":
        others = {w for w, _, _ in _items(term)} - {prefix}
        return [
            _replace(text, start, end, str(code), f"error:{code}", CATALOG[code].title)
            for code in sorted(CATALOG)
            if str(code).startswith(prefix) and str(code) not in others
        ]
    if key in ("since", "until"):
        return [
            _replace(text, start, end, value, f"{key}:{value}", _duration_help(key, value))
            for value in _DURATION_OFFERS
            if value.startswith(prefix)
        ]
    if key == "dir":
        return [
            _replace(text, start, end, value, f"dir:{value}", help)
            for value, help in _DIRECTION_HELP.items()
            if value.startswith(prefix)
        ]
    return []


def _status_candidates() -> list[tuple[str, str]]:
    named = [(s.value, STATUS_HELP[s]) for s in MessageStatus]
    return named + [(name, help) for name, (_, help) in STATUS_GROUPS.items()]


def _key_completion(text: str, start: int, end: int, key: str) -> Completion:
    new = key if key == "stuck" else key + ":"
    return _replace(text, start, end, new, new, KEYS[key])


def _complete_key(text: str, term: _Term, cursor: int) -> list[Completion]:
    if term.quoted and term.quoted[0]:
        return []  # quoted text is never a key
    prefix = text[term.start : cursor].lower()
    if term.colon >= 0:
        # Editing the key of `key:value`: replace the key and its colon, keep the value.
        end = term.pos[term.colon] + 1
        keys = [k for k in _VALUE_KEYS if k.startswith(prefix)]
    else:
        end = term.end
        keys = [k for k in KEYS if k.startswith(prefix)]
    return [_key_completion(text, term.start, end, key) for key in keys]


# --- Summary -----------------------------------------------------------------------------


def _statuses_label(statuses: frozenset[MessageStatus]) -> str:
    for name, (group, _) in STATUS_GROUPS.items():
        if statuses == group:
            return name
    return "|".join(s.value for s in MessageStatus if s in statuses)


def _moment_label(moment: datetime) -> str:
    moment = _aware(moment).astimezone(UTC)
    if moment.time() == time():
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _time_label(parsed: ParsedQuery, key: str, moment: datetime) -> str:
    # The filter holds absolute times; the text says how the person put it ("last 1h"),
    # which is what a header should echo.
    for term in reversed(_tokenize(parsed.text)):
        if term.key == key and term.open_quote is None:
            value = term.value.strip()
            if _DURATION.fullmatch(value):
                return f"last {value}" if key == "since" else f"older than {value}"
            return f"{key} {value}"
    return f"{key} {_moment_label(moment)}"


def describe(parsed: ParsedQuery) -> str:
    """A short summary for a header, e.g. `status failed|undelivered, to +44…, last 1h`."""
    flt = parsed.filter
    parts: list[str] = []
    if parsed.stuck:
        parts.append("stuck")
    if flt.statuses and not (parsed.stuck and flt.statuses == IN_FLIGHT):
        parts.append(f"status {_statuses_label(flt.statuses)}")
    if flt.error_codes:
        parts.append("error " + "|".join(str(c) for c in sorted(flt.error_codes)))
    if flt.to_addr:
        parts.append(f"to {flt.to_addr}…")
    if flt.from_addr:
        parts.append(f"from {flt.from_addr}…")
    if flt.text:
        parts.append(f'text "{flt.text}"')
    if flt.direction:
        parts.append(flt.direction)
    if flt.since is not None:
        parts.append(_time_label(parsed, "since", flt.since))
    if flt.until is not None:
        parts.append(_time_label(parsed, "until", flt.until))
    if flt.status_before is not None and not parsed.stuck:
        parts.append(f"status older than {_moment_label(flt.status_before)}")
    return ", ".join(parts) if parts else "all messages"
