"""Untrusted text made safe to put on a terminal: the one `sanitize()` every widget uses.

Message bodies, phone numbers and error strings come from strangers. Widgets build Rich
`Text` from plain strings (never markup), so `[bold]` already shows literally; what is left
is characters a terminal would obey or that would make the screen lie:
- C0 and C1 control characters, ESC included (Rich's `strip_control_codes` keeps ESC, so
  CSI/OSC sequences such as an OSC 52 clipboard write would survive it), and DEL;
- bidirectional overrides and isolates, which reorder what follows them on screen;
- zero-width characters, which hide content or join it invisibly;
- long runs of combining marks ("zalgo"), which smear over neighbouring cells.
Controls become visible symbols (U+2400 block), so a reader can tell something was there.
"""

from __future__ import annotations

import re
import unicodedata

# Bidi embedding/override/isolate controls and marks (Unicode TR9), plus the Arabic
# letter mark: each can reorder or disguise the text after it.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Zero-width and invisible joiners/spaces, word joiner, BOM, soft hyphen.
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
# More combining marks than any real script stacks on one letter (Vietnamese uses two).
MAX_COMBINING = 3

_TABLE: dict[int, str] = {}
for _code in range(0x20):
    _TABLE[_code] = chr(0x2400 + _code)  # ␀ .. ␟, e.g. ESC -> ␛
_TABLE[0x7F] = "\u2421"  # ␡
for _code in range(0x80, 0xA0):
    _TABLE[_code] = "\ufffd"  # C1 controls (0x9b is a one-byte CSI): shown as �
for _char in _BIDI + _INVISIBLE:
    _TABLE[ord(_char)] = ""
_TABLE[ord("\t")] = " "
# Line and paragraph separators break a row like a newline would.
_TABLE[0x2028] = "\u2424"
_TABLE[0x2029] = "\u2424"

_MULTILINE = dict(_TABLE)
_MULTILINE[ord("\n")] = "\n"
_MULTILINE[ord("\r")] = ""

_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_COMBINING_RUN = re.compile(f"[{_COMBINING}]{{{MAX_COMBINING + 1},}}")


def _trim_combining(match: re.Match[str]) -> str:
    return match.group(0)[:MAX_COMBINING]


def sanitize(text: str | None, *, multiline: bool = False) -> str:
    """`text` with nothing a terminal would act on; one line unless `multiline`."""
    if not text:
        return ""
    safe = text.translate(_MULTILINE if multiline else _TABLE)
    if not safe.isascii():
        safe = _COMBINING_RUN.sub(_trim_combining, safe)
        # Other format characters (category Cf) not listed above: tag characters,
        # interlinear annotations... invisible too.
        if any(unicodedata.category(c) == "Cf" for c in safe):
            safe = "".join(c for c in safe if unicodedata.category(c) != "Cf")
    return safe


def preview(text: str | None, limit: int = 200) -> str:
    """One safe line for a list column: newlines shown as ⏎, cut at `limit` characters."""
    if not text:
        return ""
    return sanitize(text[: limit * 2])[:limit]
