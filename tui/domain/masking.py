"""Showing that a secret is set without showing the secret; shortening long SIDs; hiding
people's numbers and words for presenter mode (screen sharing, exports for a report).

Presenter mode hides what identifies a person (their number, what they wrote) and keeps
what a demo or incident report needs: the channel, the country, the last two digits to
tell two numbers apart, and the length of a body. Businesses' own senders (short codes,
alphanumeric sender IDs, Messaging Service SIDs) are not personal and stay readable.
"""

from __future__ import annotations

import re
from typing import Final

import phonenumbers

from tui.domain.addresses import is_messaging_service_sid

VISIBLE = 4  # the last characters shown, enough to tell two tokens apart
BULLET: Final = "\u2022"
# The last characters of an address left readable: enough to tell two numbers apart on a
# screen, too few to call anyone.
ADDRESS_VISIBLE: Final = 2

_CHANNEL_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9_-]*:)(.*)", re.DOTALL)
_PHONE = re.compile(r"\+[0-9][0-9 \-().]*")
# A phone number inside free text, as Twilio's error messages quote one ("The 'To' number
# +15005550001 is not..."): '+', then at least 6 digits, single formatting marks between.
_PHONE_IN_TEXT = re.compile(r"\+[0-9](?:[ \-().]?[0-9]){5,}")
_SHORT_CODE = re.compile(r"[0-9]{5,6}")
# Twilio's alphanumeric sender ID rules (see addresses.py); a leading '+' is a phone.
_ALPHANUMERIC_SENDER = re.compile(r"(?=[^+])(?=.*[A-Za-z])[A-Za-z0-9 +\-_&]{1,11}")


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


def _mask_tail(text: str) -> str:
    """All of `text` as bullets but its last two characters; all of it when it is so short
    that two would be most of it."""
    shown = ADDRESS_VISIBLE if len(text) > 2 * ADDRESS_VISIBLE else 0
    return BULLET * (len(text) - shown) + text[len(text) - shown :]


def _country_code_length(e164: str) -> int:
    try:
        code = phonenumbers.parse(e164, None).country_code
    except phonenumbers.NumberParseException:
        code = None
    # Without a known country code, the first digit (the world zone) is all that is kept.
    return len(str(code)) if code else 1


def _mask_phone(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    split = _country_code_length("+" + digits)
    return f"+{digits[:split]} {_mask_tail(digits[split:])}".rstrip()


def mask_address(address: str | None) -> str | None:
    """A To or From for presenter mode: `+447400123456` -> `+44 ••••••••56`.

    Channel prefixes (`whatsapp:`) and the country calling code stay; short codes,
    alphanumeric sender IDs and Messaging Service SIDs (businesses, not people) are
    returned unchanged; any other text keeps only its last two characters.
    """
    if address is None:
        return None
    if (
        _SHORT_CODE.fullmatch(address)
        or is_messaging_service_sid(address)
        or _ALPHANUMERIC_SENDER.fullmatch(address)
    ):
        return address
    prefix = ""
    rest = address
    channel = _CHANNEL_PREFIX.fullmatch(address)
    if channel is not None:
        prefix, rest = channel.group(1), channel.group(2)
    if _PHONE.fullmatch(rest):
        return prefix + _mask_phone(rest)
    return prefix + _mask_tail(rest)


def mask_numbers_in(text: str | None) -> str | None:
    """`text` with every phone number in it masked as `mask_address` masks it; the rest of
    the text (an error message, say) stays readable."""
    if not text:
        return text
    return _PHONE_IN_TEXT.sub(lambda m: _mask_phone(m.group(0)), text)


def mask_body(body: str | None) -> str | None:
    """A message body for presenter mode: only its length, `\u2039hidden: 12 characters\u203a`."""
    if not body:
        return body
    unit = "character" if len(body) == 1 else "characters"
    return f"\u2039hidden: {len(body)} {unit}\u203a"
