"""Parsing the To and From addresses of an outgoing message.

Owns what msgwatch accepts in a message's `To` and `From`, the error a person sees when an
address is wrong, and the normalized form sent to Twilio. The kinds, after the Message
resource's To/From parameters (https://www.twilio.com/docs/messaging/api/message-resource):

- phone numbers, in E.164 (validated with `phonenumbers`); human formatting such as
  "+1 (415) 555-0100" is accepted and normalized to "+14155550100";
- channel addresses: `whatsapp:` followed by an E.164 number. It is the only prefix
  msgwatch accepts. Other prefixes are refused with a clear error: Facebook Messenger is
  not a channel msgwatch sends on, and RCS is reached by sending to the plain phone number
  through a Messaging Service that has an RCS sender, which falls back to SMS;
- short codes (5-6 digits, no '+'), as To or From;
- alphanumeric sender IDs, From only: 1-11 characters from A-Z, a-z, 0-9, space and
  - + _ &, with at least one letter (the AlphaSender resource,
  https://www.twilio.com/docs/messaging/api/alphasender-resource, and
  https://support.twilio.com/hc/en-us/articles/223181348); a From starting with '+' is
  always read as a phone number;
- Messaging Service SIDs ("MG" + 32 hex digits), From only.

Parsing is string work plus one `phonenumbers` lookup, fast enough to run on every key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

import phonenumbers

from .country_names import country_name_for_number

# Twilio's error codes for a bad address (https://www.twilio.com/docs/api/errors/<code>).
CODE_TO_REQUIRED: Final = 21604
CODE_FROM_REQUIRED: Final = 21603
CODE_INVALID_TO: Final = 21211
CODE_INVALID_FROM: Final = 21212

# E.164 allows at most 15 digits, country code included (ITU-T E.164 section 6).
E164_MAX_DIGITS: Final = 15
# The magic numbers of Twilio's test credentials
# (https://www.twilio.com/docs/iam/test-credentials), e.g. +15005550006 (a valid From) and
# +15005550001 (an invalid number, which Twilio itself answers with an error). Area code
# 500 is non-geographic, so phonenumbers' verdict on it may change with its metadata; these
# are always accepted as US numbers so that test-credential sends keep working.
TWILIO_TEST_NUMBERS: Final = frozenset(f"+1500555000{d}" for d in range(10))

SUPPORTED_CHANNELS: Final = ("whatsapp",)

Field = Literal["To", "From"]

_MG_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_SHORT_CODE = re.compile(r"[0-9]{5,6}")
_ALNUM_CHARS = re.compile(r"[A-Za-z0-9 +\-_&]+")
_ALNUM_PUNCTUATION = frozenset(" +-_&")
_CHANNEL_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.DOTALL)
_ALNUM_MAX = 11
_DIGITS = frozenset("0123456789")
# What people (and copy-paste from contacts apps) put inside phone numbers: spaces, dashes
# of every kind, brackets, dots, slashes, and invisible direction marks.
_FORMATTING = frozenset(
    " \t\u00a0\u2007\u202f-\u2010\u2011\u2012\u2013\u2014\u2212()[]./"
    "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)
_EXAMPLE = "+14155550100"
_SHOWN_MAX = 40  # longest input quoted whole in an error message


class AddressKind(StrEnum):
    PHONE = "phone"
    CHANNEL = "channel"
    ALPHANUMERIC = "alphanumeric"
    SHORT_CODE = "short_code"
    MESSAGING_SERVICE = "messaging_service"


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed To or From address."""

    raw: str
    kind: AddressKind
    normalized: str  # E.164 for phones, "whatsapp:+..." for channels, as given otherwise
    channel: str | None = None  # "whatsapp" for channel addresses
    e164: str | None = None  # for phones and channel addresses
    region_code: str | None = None  # ISO 3166 code ("US"), or "001" for non-geographic
    region_name: str | None = None  # English country name ("United States"); with named=True


class AddressError(ValueError):
    """An address Twilio would refuse; `code` is the Twilio error it would answer with."""

    def __init__(self, code: int, field: Field, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field  # "To" or "From"
        self.message = message


@dataclass(frozen=True, slots=True)
class _Phone:
    e164: str
    region_code: str | None
    region_name: str | None


def is_messaging_service_sid(s: str) -> bool:
    """True for a Messaging Service SID: "MG" followed by 32 hex digits."""
    return _MG_SID.fullmatch(s) is not None


def _is_alphanumeric_sender(s: str) -> bool:
    return (
        len(s) <= _ALNUM_MAX
        and _ALNUM_CHARS.fullmatch(s) is not None
        and any(c.isalpha() for c in s)
    )


def _compact(text: str) -> str:
    """`text` without formatting, with any script's digits (and a full-width plus) made ASCII.

    Numbers pasted from phones in other locales arrive in full-width or Arabic-Indic digits;
    they are the same number, so they are read the way phonenumbers itself reads them.
    """
    out: list[str] = []
    for c in text:
        if c in _FORMATTING or c.isspace():
            continue
        if c.isdecimal() and not c.isascii():
            out.append(str(unicodedata.decimal(c)))
        elif c == "\uff0b":  # FULLWIDTH PLUS SIGN
            out.append("+")
        else:
            out.append(c)
    return "".join(out)


def _quote(text: str) -> str:
    """`text` in quotes, cut short enough to show in a one-line error."""
    shown = text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "\u2026"
    return f"'{shown}'"


def _fail(field: Field, message: str) -> AddressError:
    code = CODE_INVALID_TO if field == "To" else CODE_INVALID_FROM
    return AddressError(code, field, message)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _parse_phone(text: str, field: Field, strict: bool, named: bool) -> _Phone:
    """`text` as an E.164 phone number, or an AddressError saying what is wrong with it."""
    q = _quote(text)
    compact = _compact(text)
    if not compact.startswith("+"):
        if compact and set(compact) <= _DIGITS:
            if compact.startswith("00"):
                raise _fail(field, f"Replace the leading 00 of {q} with '+' (E.164 form).")
            raise _fail(
                field,
                f"{q} needs a leading '+' and country code (E.164 form, e.g. {_EXAMPLE}).",
            )
        if any(c.isalpha() for c in compact):
            raise _fail(
                field,
                f"{q} is not a phone number: use digits after a '+' (e.g. {_EXAMPLE}).",
            )
        raise _fail(
            field, f"{q} is not a phone number: write it as '+' and digits (e.g. {_EXAMPLE})."
        )
    digits = compact[1:]
    if not digits:
        raise _fail(field, f"Add the country code and number after the '+' (e.g. {_EXAMPLE}).")
    if not set(digits) <= _DIGITS:
        if any(c.isalpha() for c in digits):
            raise _fail(field, f"{q} has letters in it; a phone number has only digits.")
        bad = next(c for c in digits if c not in _DIGITS)
        raise _fail(field, f"{q} has '{bad}' in it; a phone number has only digits.")
    if len(digits) > E164_MAX_DIGITS:
        raise _fail(
            field,
            f"{q} has {len(digits)} digits; an E.164 number has at most "
            f"{E164_MAX_DIGITS}, country code included.",
        )
    e164 = "+" + digits
    if e164 in TWILIO_TEST_NUMBERS:
        return _Phone(e164, "US", "United States")
    if digits[0] == "0":
        raise _fail(field, f"{q} starts with 0 after the '+'; no country code starts with 0.")
    return _lookup(e164, text, field, strict, named)


def _lookup(e164: str, text: str, field: Field, strict: bool, named: bool) -> _Phone:
    q = _quote(text)
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise _fail(field, f"{q} does not start with a known country code.") from None
        raise _fail(field, f"{q} is too short to be a phone number.") from None
    country_code = number.country_code or 0  # always set once parse succeeds
    reason = phonenumbers.is_possible_number_with_reason(number)
    results = phonenumbers.ValidationResult
    if reason == results.INVALID_COUNTRY_CODE:
        raise _fail(field, f"{q} does not start with a known country code.")
    if reason == results.TOO_SHORT:
        raise _fail(field, f"{q} is too short for a +{country_code} number.")
    if reason == results.TOO_LONG:
        raise _fail(field, f"{q} is too long for a +{country_code} number.")
    if reason == results.INVALID_LENGTH:
        raise _fail(field, f"{q} has the wrong number of digits for a +{country_code} number.")
    if not phonenumbers.is_valid_number(number):
        region = _str_or_none(phonenumbers.region_code_for_country_code(country_code))
        if not strict:
            # Possible but unassigned (e.g. +1 555 numbers in Twilio's own examples).
            name = (country_name_for_number(number) or region) if named else None
            return _Phone(e164, region, name)
        where = f" ({region})" if region and region != "ZZ" else ""
        raise _fail(
            field,
            f"{q} is not a valid number for country code +{country_code}{where}; check the digits.",
        )
    region_code = _str_or_none(phonenumbers.region_code_for_number(number))
    return _Phone(e164, region_code, country_name_for_number(number) if named else None)


def region_code_of(address: str | None) -> str | None:
    """The ISO region ("GB") of a phone or channel address as stored (E.164), cheaply:
    no validation and no country name. None for short codes, sender IDs, unknowns."""
    if not address:
        return None
    match = _CHANNEL_PREFIX.fullmatch(address)
    number = match.group(2) if match else address
    if not number.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(
        parsed
    ) or phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    return None if not region or region == "ZZ" else str(region)


def _parse_channel(
    raw: str, prefix: str, rest: str, field: Field, strict: bool, named: bool
) -> Address:
    channel = prefix.lower()
    if channel not in SUPPORTED_CHANNELS:
        raise _fail(
            field,
            f"msgwatch does not send on '{prefix}:' addresses; use a phone number, "
            f"or whatsapp:{_EXAMPLE} for WhatsApp.",
        )
    body = rest.strip()
    if not body:
        raise _fail(field, f"Add a phone number after '{prefix}:' (e.g. whatsapp:{_EXAMPLE}).")
    phone = _parse_phone(body, field, strict, named)
    return Address(
        raw=raw,
        kind=AddressKind.CHANNEL,
        normalized=f"{channel}:{phone.e164}",
        channel=channel,
        e164=phone.e164,
        region_code=phone.region_code,
        region_name=phone.region_name,
    )


def _phone_address(raw: str, text: str, field: Field, strict: bool, named: bool) -> Address:
    phone = _parse_phone(text, field, strict, named)
    return Address(
        raw=raw,
        kind=AddressKind.PHONE,
        normalized=phone.e164,
        e164=phone.e164,
        region_code=phone.region_code,
        region_name=phone.region_name,
    )


def parse_to(raw: str, *, strict: bool = True, named: bool = False) -> Address:
    """A message's To: a phone number, a `whatsapp:` address or a short code.

    `strict=False` also accepts numbers that are possible but not assigned in the numbering
    plan (+1 555 ..., as in Twilio's own examples); the local Twilio uses it so that the
    docs' examples and demo numbers work. Lengths and country codes are checked either way.
    `named=True` also fills `region_name` ("Germany"); for a +1 number that means testing
    it against each NANP region, so only callers that show the name ask for it.
    """
    text = raw.strip()
    q = _quote(text)
    if not text:
        raise AddressError(
            CODE_TO_REQUIRED, "To", f"'To' is required: enter a phone number such as {_EXAMPLE}."
        )
    channel = _CHANNEL_PREFIX.fullmatch(text)
    if channel is not None:
        return _parse_channel(raw, channel.group(1), channel.group(2), "To", strict, named)
    if _SHORT_CODE.fullmatch(text):
        return Address(raw=raw, kind=AddressKind.SHORT_CODE, normalized=text)
    if is_messaging_service_sid(text):
        raise _fail("To", "A Messaging Service SID can only be a From; 'To' must be a recipient.")
    if not text.startswith("+") and _is_alphanumeric_sender(text):
        raise _fail(
            "To",
            f"{q} looks like an alphanumeric sender ID, which can only be a From; "
            f"'To' must be a phone number (e.g. {_EXAMPLE}), short code or whatsapp: address.",
        )
    return _phone_address(raw, text, "To", strict, named)


def parse_from(raw: str, *, strict: bool = True, named: bool = False) -> Address:
    """A message's From: a phone number, `whatsapp:` address, short code, alphanumeric sender
    ID or Messaging Service SID. `strict` as for `parse_to`."""
    text = raw.strip()
    q = _quote(text)
    if not text:
        raise AddressError(
            CODE_FROM_REQUIRED,
            "From",
            "'From' is required: enter one of your numbers, a short code, a sender ID "
            "or a Messaging Service SID (MG...).",
        )
    if is_messaging_service_sid(text):
        return Address(raw=raw, kind=AddressKind.MESSAGING_SERVICE, normalized=text)
    if text.startswith("MG") and len(text) > _ALNUM_MAX:
        raise _fail(
            "From",
            f"{q} is not a Messaging Service SID: those are 'MG' followed by "
            "32 hex digits (34 characters).",
        )
    channel = _CHANNEL_PREFIX.fullmatch(text)
    if channel is not None:
        return _parse_channel(raw, channel.group(1), channel.group(2), "From", strict, named)
    if _SHORT_CODE.fullmatch(text):
        return Address(raw=raw, kind=AddressKind.SHORT_CODE, normalized=text)
    if text.startswith("+") or not any(c.isalpha() for c in text):
        return _phone_address(raw, text, "From", strict, named)
    if _is_alphanumeric_sender(text):
        return Address(raw=raw, kind=AddressKind.ALPHANUMERIC, normalized=text)
    if _ALNUM_CHARS.fullmatch(text):
        raise _fail(
            "From",
            f"{q} has {len(text)} characters; an alphanumeric sender ID has at most {_ALNUM_MAX}.",
        )
    bad = next(c for c in text if not (c.isascii() and c.isalnum()) and c not in _ALNUM_PUNCTUATION)
    raise _fail(
        "From",
        f"{q} has '{bad}' in it; a sender ID may only use letters A-Z, digits, spaces and - + _ &.",
    )
