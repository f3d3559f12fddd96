"""SMS segment arithmetic: GSM-7 vs UCS-2, segment counts, the body limit, Smart Encoding.

This module owns the answer to "what will Twilio bill for this body?": which encoding the
body is sent in, how many segments it is split into, how many units are still free in the
last segment, which characters forced UCS-2 (and where they are, so the compose pane can
highlight them), whether the body is over Twilio's length limit, and what Twilio's Smart
Encoding (``SmartEncoded=true``) would transliterate.

The compose pane calls :func:`segment_info` on every keystroke and the emulator on every
message it creates, so every table is built once at import and the common cases (no
extension characters, no surrogate pairs) are pure arithmetic.

Sources for the numbers and tables (Twilio docs):

* https://www.twilio.com/docs/glossary/what-sms-character-limit
* https://www.twilio.com/docs/glossary/what-is-gsm-7-character-encoding
* https://www.twilio.com/docs/glossary/what-is-ucs-2-character-encoding
* https://github.com/TwilioDevEd/message-segment-calculator (Twilio's reference calculator)
* Error 21617 (https://www.twilio.com/docs/api/errors/21617): body exceeds 1600 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "GSM7_MULTI_SEGMENT",
    "GSM7_SINGLE_SEGMENT",
    "MAX_BODY_CHARS",
    "SMART_ENCODED_CHARS",
    "UCS2_MULTI_SEGMENT",
    "UCS2_SINGLE_SEGMENT",
    "Encoding",
    "SegmentInfo",
    "gsm7_cost",
    "is_gsm7",
    "is_over_body_limit",
    "segment_info",
    "smart_encode",
    "smart_encoding_changes",
]


class Encoding(StrEnum):
    """The alphabet a body travels in; the value is the name Twilio's docs use."""

    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


# --- Capacities ---------------------------------------------------------------------------
# One SMS carries 140 octets of user data. GSM-7 packs 7-bit septets: 140 * 8 / 7 = 160.
# UCS-2 uses 16-bit units: 140 / 2 = 70. A concatenated (multi-part) message spends 6 octets
# of every part on the User Data Header, leaving 134 octets: 153 septets (134 * 8 / 7, rounded
# down and septet-aligned) or 67 UTF-16 units. (Twilio: "what-sms-character-limit".)
GSM7_SINGLE_SEGMENT = 160
GSM7_MULTI_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTI_SEGMENT = 67

# Twilio rejects a Body longer than 1600 characters with error 21617. We count characters as
# Python code points (``len(str)``): a non-BMP emoji is one character here even though it
# costs two UTF-16 units on the air. That is the natural reading of "characters" and the
# cautious one for the user (counting UTF-16 units would reject bodies Twilio may accept).
MAX_BODY_CHARS = 1600

# --- The GSM 03.38 alphabet ---------------------------------------------------------------
# The basic table, in code-table order (3GPP TS 23.038, reproduced in Twilio's
# "what-is-gsm-7-character-encoding"). Position 0x1B is ESC, which introduces an extension
# character and is not itself a usable character, so it is left out: 127 characters.
_GSM7_BASIC_TABLE = (
    # 0x00-0x0F
    "@\N{POUND SIGN}$\N{YEN SIGN}"
    "\N{LATIN SMALL LETTER E WITH GRAVE}\N{LATIN SMALL LETTER E WITH ACUTE}"
    "\N{LATIN SMALL LETTER U WITH GRAVE}\N{LATIN SMALL LETTER I WITH GRAVE}"
    "\N{LATIN SMALL LETTER O WITH GRAVE}\N{LATIN CAPITAL LETTER C WITH CEDILLA}"
    "\n\N{LATIN CAPITAL LETTER O WITH STROKE}\N{LATIN SMALL LETTER O WITH STROKE}"
    "\r\N{LATIN CAPITAL LETTER A WITH RING ABOVE}\N{LATIN SMALL LETTER A WITH RING ABOVE}"
    # 0x10-0x1F (0x1B is ESC, omitted)
    "\N{GREEK CAPITAL LETTER DELTA}_\N{GREEK CAPITAL LETTER PHI}\N{GREEK CAPITAL LETTER GAMMA}"
    "\N{GREEK CAPITAL LETTER LAMDA}\N{GREEK CAPITAL LETTER OMEGA}\N{GREEK CAPITAL LETTER PI}"
    "\N{GREEK CAPITAL LETTER PSI}\N{GREEK CAPITAL LETTER SIGMA}\N{GREEK CAPITAL LETTER THETA}"
    "\N{GREEK CAPITAL LETTER XI}"
    "\N{LATIN CAPITAL LETTER AE}\N{LATIN SMALL LETTER AE}\N{LATIN SMALL LETTER SHARP S}"
    "\N{LATIN CAPITAL LETTER E WITH ACUTE}"
    # 0x20-0x3F
    ' !"#\N{CURRENCY SIGN}%&'
    "'()*+,-./0123456789:;<=>?"
    # 0x40-0x5F
    "\N{INVERTED EXCLAMATION MARK}ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "\N{LATIN CAPITAL LETTER A WITH DIAERESIS}\N{LATIN CAPITAL LETTER O WITH DIAERESIS}"
    "\N{LATIN CAPITAL LETTER N WITH TILDE}\N{LATIN CAPITAL LETTER U WITH DIAERESIS}"
    "\N{SECTION SIGN}"
    # 0x60-0x7F
    "\N{INVERTED QUESTION MARK}abcdefghijklmnopqrstuvwxyz"
    "\N{LATIN SMALL LETTER A WITH DIAERESIS}\N{LATIN SMALL LETTER O WITH DIAERESIS}"
    "\N{LATIN SMALL LETTER N WITH TILDE}\N{LATIN SMALL LETTER U WITH DIAERESIS}"
    "\N{LATIN SMALL LETTER A WITH GRAVE}"
)

#: The 127 usable characters of the GSM-7 basic table; each costs one septet.
GSM7_BASIC: frozenset[str] = frozenset(_GSM7_BASIC_TABLE)

#: The extension table: sent as ESC + char, so each costs two septets. (Twilio GSM-7 doc.)
GSM7_EXTENSION: frozenset[str] = frozenset("^{}\\[~]|\N{EURO SIGN}\f")

_GSM7_ALL: frozenset[str] = GSM7_BASIC | GSM7_EXTENSION

# --- Smart Encoding -----------------------------------------------------------------------
# What Twilio's Smart Encoding (SmartEncoded=true) replaces, per Twilio's docs and the
# SmartEncodingMap of its reference calculator. We keep the groups the project relies on; the
# replacement is always plain GSM-7 text. Accented letters are never touched: Smart Encoding
# swaps look-alike punctuation and spacing, it does not strip diacritics.
_SMART_DOUBLE_QUOTES = (
    "\N{LEFT-POINTING DOUBLE ANGLE QUOTATION MARK}"
    "\N{RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK}"
    "\N{LEFT DOUBLE QUOTATION MARK}"
    "\N{RIGHT DOUBLE QUOTATION MARK}"
    "\N{DOUBLE LOW-9 QUOTATION MARK}"
    "\N{DOUBLE HIGH-REVERSED-9 QUOTATION MARK}"
    "\N{FULLWIDTH QUOTATION MARK}"
)
_SMART_SINGLE_QUOTES = (
    "\N{LEFT SINGLE QUOTATION MARK}"
    "\N{RIGHT SINGLE QUOTATION MARK}"
    "\N{SINGLE HIGH-REVERSED-9 QUOTATION MARK}"
    "\N{MODIFIER LETTER APOSTROPHE}"
    "\N{ACUTE ACCENT}"
    # The backtick is ASCII but not GSM-7, so left alone it silently forces UCS-2.
    "\N{GRAVE ACCENT}"
)
_SMART_DASHES = (
    "\N{EN DASH}"
    "\N{EM DASH}"
    "\N{HORIZONTAL BAR}"
    "\N{HYPHEN}"
    "\N{NON-BREAKING HYPHEN}"
    "\N{FIGURE DASH}"
    "\N{BULLET}"
)
_SMART_SPACES = (
    "\N{NO-BREAK SPACE}"
    + "".join(chr(cp) for cp in range(0x2000, 0x200A + 1))  # EN QUAD .. HAIR SPACE
    + "\N{NARROW NO-BREAK SPACE}"
    "\N{MEDIUM MATHEMATICAL SPACE}"
    "\N{IDEOGRAPHIC SPACE}"
    # Tab is not in GSM-7. Twilio's reference calculator expands it to 7 spaces (what a
    # Python REPL happens to print); we choose ONE space: a tab is one keystroke of
    # whitespace, and a single space never inflates a segment count unexpectedly.
    "\t"
)
_SMART_ZERO_WIDTH = (
    "\N{ZERO WIDTH SPACE}"
    "\N{ZERO WIDTH NON-JOINER}"
    "\N{ZERO WIDTH JOINER}"
    "\N{WORD JOINER}"
    "\N{ZERO WIDTH NO-BREAK SPACE}"
)


def _build_smart_map() -> dict[str, str]:
    raw: dict[str, str] = {}
    # Full-width ASCII (U+FF01..U+FF5E) sits exactly 0xFEE0 above its ASCII twin.
    for cp in range(0xFF01, 0xFF5E + 1):
        raw[chr(cp)] = chr(cp - 0xFEE0)
    raw.update(dict.fromkeys(_SMART_DOUBLE_QUOTES, '"'))
    raw.update(dict.fromkeys(_SMART_SINGLE_QUOTES, "'"))
    raw.update(dict.fromkeys(_SMART_DASHES, "-"))
    raw.update(dict.fromkeys(_SMART_SPACES, " "))
    raw.update(dict.fromkeys(_SMART_ZERO_WIDTH, ""))
    raw["\N{HORIZONTAL ELLIPSIS}"] = "..."
    raw["\N{DIVISION SIGN}"] = "/"
    raw["\N{VULGAR FRACTION ONE QUARTER}"] = "1/4"
    raw["\N{VULGAR FRACTION ONE HALF}"] = "1/2"
    raw["\N{VULGAR FRACTION THREE QUARTERS}"] = "3/4"
    # Close the map over itself so one pass is final (smart_encode is idempotent): the
    # full-width grave accent U+FF40 would otherwise become a backtick, which is itself mapped.
    closed: dict[str, str] = {}
    for src, dst in raw.items():
        while any(c in raw for c in dst):
            dst = "".join(raw.get(c, c) for c in dst)
        closed[src] = dst
    return closed


_SMART_MAP: dict[str, str] = _build_smart_map()
_SMART_TABLE: dict[int, str] = {ord(src): dst for src, dst in _SMART_MAP.items()}

#: Every character :func:`smart_encode` replaces or removes.
SMART_ENCODED_CHARS: frozenset[str] = frozenset(_SMART_MAP)


# --- Results ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How a body is encoded and split into billable segments.

    ``chars``, ``over_limit`` and ``ucs2_forcing_positions`` describe the body exactly as
    given (what the user typed; what Twilio's length check sees). ``encoding``, ``segments``,
    ``units``, ``remaining_in_segment``, ``per_segment`` and ``ucs2_forcing`` describe what is
    sent, i.e. after Smart Encoding when it was asked for.

    An empty body is reported as one GSM-7 segment with 0 units used: Twilio bills an empty
    (e.g. media-less, text-less) SMS as one segment, and the compose pane wants "160 left".
    """

    encoding: Encoding
    segments: int
    # Septets (GSM-7) or UTF-16 code units (UCS-2) used by the whole body.
    units: int
    # len(body) in code points.
    chars: int
    # Units still free in the last segment before another segment is needed.
    remaining_in_segment: int
    # Capacity of one segment in the current layout: 160/70 single, 153/67 multi-part.
    per_segment: int
    # Distinct characters that forced UCS-2, in order of first appearance; () for GSM-7.
    ucs2_forcing: tuple[str, ...]
    # Code-point index in the body of every forcing character (for highlighting).
    ucs2_forcing_positions: tuple[int, ...]
    # chars > MAX_BODY_CHARS (Twilio error 21617).
    over_limit: bool


# --- Character predicates -----------------------------------------------------------------
def is_gsm7(ch: str) -> bool:
    """Whether ``ch`` (one character) is in the GSM-7 basic or extension table."""
    return ch in _GSM7_ALL


def gsm7_cost(ch: str) -> int:
    """Septets ``ch`` costs in GSM-7: 1 for the basic table, 2 (ESC + char) for the extension.

    Raises :class:`ValueError` for a character GSM-7 cannot carry.
    """
    if ch in GSM7_BASIC:
        return 1
    if ch in GSM7_EXTENSION:
        return 2
    raise ValueError(f"not a GSM-7 character: {ch!r}")


def is_over_body_limit(body: str) -> bool:
    """Whether Twilio would reject ``body`` as too long (error 21617, > 1600 code points)."""
    return len(body) > MAX_BODY_CHARS


# --- Smart Encoding -----------------------------------------------------------------------
def smart_encode(body: str) -> str:
    """``body`` as Twilio's Smart Encoding would send it (look-alikes swapped for GSM-7)."""
    return body.translate(_SMART_TABLE)


def smart_encoding_changes(body: str) -> tuple[tuple[str, str], ...]:
    """The distinct ``(original, replacement)`` swaps :func:`smart_encode` makes, in order.

    A removed zero-width character shows as ``(char, "")``.
    """
    seen: set[str] = set()
    changes: list[tuple[str, str]] = []
    for ch in body:
        if ch in _SMART_MAP and ch not in seen:
            seen.add(ch)
            changes.append((ch, _SMART_MAP[ch]))
    return tuple(changes)


# --- Segmenting ---------------------------------------------------------------------------
def _pack(costs: list[int], per_part: int) -> tuple[int, int]:
    """Greedily fill parts of ``per_part`` units; return (parts, units used in the last part).

    A 2-unit item (GSM-7 escape pair, UTF-16 surrogate pair) is never split across parts: if
    it does not fit in what is left, the part is closed short and the item opens the next one.
    (Twilio's reference calculator, Segment/SegmentedMessage.)
    """
    parts = 1
    used = 0
    for cost in costs:
        if used + cost > per_part:
            parts += 1
            used = cost
        else:
            used += cost
    return parts, used


def _layout(units: int, costs: list[int] | None, single: int, multi: int) -> tuple[int, int, int]:
    """(segments, remaining_in_segment, per_segment) for ``units`` in one encoding.

    ``costs`` is None when every character costs one unit; then no pair can straddle a
    boundary and plain division is exact.
    """
    if units <= single:
        return 1, single - units, single
    if costs is None:
        parts = -(-units // multi)
        return parts, parts * multi - units, multi
    parts, used = _pack(costs, multi)
    return parts, multi - used, multi


def segment_info(body: str, *, smart_encoded: bool = False) -> SegmentInfo:
    """Encoding, segment count and related figures for ``body``.

    With ``smart_encoded=True`` the body is passed through :func:`smart_encode` first, as
    Twilio does for ``SmartEncoded=true``; see :class:`SegmentInfo` for which fields then
    describe the sent text and which the body as given.
    """
    sent = smart_encode(body) if smart_encoded else body
    chars = len(body)
    over_limit = chars > MAX_BODY_CHARS

    if _GSM7_ALL.issuperset(sent):
        extension = sum(sent.count(c) for c in GSM7_EXTENSION)
        units = len(sent) + extension
        costs = [2 if c in GSM7_EXTENSION else 1 for c in sent] if extension else None
        segments, remaining, per_segment = _layout(
            units, costs, GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT
        )
        return SegmentInfo(
            encoding=Encoding.GSM7,
            segments=segments,
            units=units,
            chars=chars,
            remaining_in_segment=remaining,
            per_segment=per_segment,
            ucs2_forcing=(),
            ucs2_forcing_positions=(),
            over_limit=over_limit,
        )

    # UCS-2: the whole message switches, counted in UTF-16 code units. "surrogatepass" keeps
    # a stray lone surrogate countable (1 unit) instead of raising.
    units = len(sent.encode("utf-16-le", "surrogatepass")) // 2
    costs = [2 if ord(c) > 0xFFFF else 1 for c in sent] if units != len(sent) else None
    segments, remaining, per_segment = _layout(
        units, costs, UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT
    )

    # Forcing characters are reported against the body as given. A character Smart Encoding
    # replaces never forces UCS-2 (every replacement is GSM-7), and one it leaves alone is at
    # the same code point in both texts, so scanning the original is exact.
    skip = SMART_ENCODED_CHARS if smart_encoded else frozenset()
    positions: list[int] = []
    forcing: dict[str, None] = {}  # insertion-ordered set
    for i, ch in enumerate(body):
        if ch not in _GSM7_ALL and ch not in skip:
            positions.append(i)
            forcing[ch] = None

    return SegmentInfo(
        encoding=Encoding.UCS2,
        segments=segments,
        units=units,
        chars=chars,
        remaining_in_segment=remaining,
        per_segment=per_segment,
        ucs2_forcing=tuple(forcing),
        ucs2_forcing_positions=tuple(positions),
        over_limit=over_limit,
    )
