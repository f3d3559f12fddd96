"""To/From parsing: every kind of address, human formatting, and every way to get one wrong."""

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.addresses import (
    TWILIO_TEST_NUMBERS,
    Address,
    AddressError,
    AddressKind,
    is_messaging_service_sid,
    parse_from,
    parse_to,
)

MG = "MG" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    "raw",
    [
        "+14155550100",
        "+1 (415) 555-0100",
        "+1 415.555.0100",
        "+1-415-555-0100",
        "  +1 415 555 0100  ",
        "+1\u00a0415\u00a0555\u00a00100",
        "\u200e+1 415 555 0100\u200e",
    ],
)
@pytest.mark.parametrize("parse", [parse_to, parse_from])
def test_formatted_phone_normalizes_to_e164(raw: str, parse: Callable[..., Address]) -> None:
    address = parse(raw, named=True)
    assert address == Address(
        raw=raw,
        kind=AddressKind.PHONE,
        normalized="+14155550100",
        e164="+14155550100",
        region_code="US",
        region_name="United States",
    )


def _digits_from(zero: int, number: str = "14155550100") -> str:
    """`number` written with the digits of the script whose zero is `chr(zero)`."""
    return "".join(chr(zero + int(d)) for d in number)


@pytest.mark.parametrize(
    "raw",
    [
        "+" + _digits_from(0xFF10),  # full-width digits
        "\uff0b1 415 555 0100",  # full-width plus
        "+" + _digits_from(0x0660),  # Arabic-Indic digits
    ],
)
def test_other_scripts_digits_are_read_as_digits(raw: str) -> None:
    assert parse_to(raw).e164 == "+14155550100"


def test_phone_outside_nanp() -> None:
    address = parse_to("+49 151 12345678", named=True)
    assert address.e164 == "+4915112345678"
    assert address.region_code == "DE"
    assert address.region_name == "Germany"
    # Without named=True the name is not looked up (a +1 number is tried in each NANP region).
    assert parse_to("+49 151 12345678").region_name is None


@pytest.mark.parametrize("number", sorted(TWILIO_TEST_NUMBERS))
def test_twilio_magic_test_numbers_are_valid_us_phones(number: str) -> None:
    for parse in (parse_to, parse_from):
        address = parse(number, named=True)
        assert address.kind is AddressKind.PHONE
        assert address.e164 == number
        assert address.region_code == "US"
        assert address.region_name == "United States"


def test_magic_numbers_include_the_documented_ones() -> None:
    assert {"+15005550006", "+15005550001", "+15005550009"} <= TWILIO_TEST_NUMBERS


@pytest.mark.parametrize("raw", ["whatsapp:+14155550100", "WhatsApp: +1 (415) 555-0100"])
@pytest.mark.parametrize("parse", [parse_to, parse_from])
def test_whatsapp_address(raw: str, parse: Callable[[str], Address]) -> None:
    address = parse(raw)
    assert address.kind is AddressKind.CHANNEL
    assert address.channel == "whatsapp"
    assert address.normalized == "whatsapp:+14155550100"
    assert address.e164 == "+14155550100"
    assert address.region_code == "US"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("whatsapp:", "Add a phone number after 'whatsapp:'"),
        ("whatsapp:14155550100", "needs a leading '+'"),
        ("whatsapp:+1415abc0100", "letters"),
        ("messenger:1234567890", "does not send on 'messenger:'"),
        ("rcs:+14155550100", "does not send on 'rcs:'"),
    ],
)
def test_bad_channel_addresses(raw: str, fragment: str) -> None:
    for parse, code in ((parse_to, 21211), (parse_from, 21212)):
        with pytest.raises(AddressError) as caught:
            parse(raw)
        assert caught.value.code == code
        assert fragment in str(caught.value)


@pytest.mark.parametrize("raw", ["12345", "123456", " 54321 "])
def test_short_codes_are_valid_both_ways(raw: str) -> None:
    for parse in (parse_to, parse_from):
        address = parse(raw)
        assert address.kind is AddressKind.SHORT_CODE
        assert address.normalized == raw.strip()
        assert address.e164 is None


@pytest.mark.parametrize("raw", ["Acme", "A", "Acme Corp 1", "ACME-Co", "B&Q", "x_y+z"])
def test_alphanumeric_sender_is_a_valid_from(raw: str) -> None:
    address = parse_from(raw)
    assert address.kind is AddressKind.ALPHANUMERIC
    assert address.normalized == raw
    assert address.e164 is None


@pytest.mark.parametrize("raw", ["Acme", "Acme Corp 1"])
def test_alphanumeric_sender_is_rejected_as_to(raw: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_to(raw)
    assert caught.value.code == 21211
    assert caught.value.field == "To"
    assert "only be a From" in str(caught.value)


def test_alphanumeric_sender_of_twelve_characters_is_rejected() -> None:
    with pytest.raises(AddressError) as caught:
        parse_from("AcmeCorp1234")
    assert caught.value.code == 21212
    assert "12 characters" in str(caught.value)
    assert "at most 11" in str(caught.value)


@pytest.mark.parametrize("raw", ["1234567", "12345678901", "1234567 89"])
def test_digits_only_from_is_not_a_sender_id(raw: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_from(raw)
    assert caught.value.code == 21212
    assert "leading '+'" in str(caught.value)


def test_sender_id_with_forbidden_character() -> None:
    with pytest.raises(AddressError, match="has '@' in it"):
        parse_from("me@acme")
    with pytest.raises(AddressError, match="has 'é' in it"):
        parse_from("Café")


def test_messaging_service_sid_is_a_from_only() -> None:
    address = parse_from(MG)
    assert address.kind is AddressKind.MESSAGING_SERVICE
    assert address.normalized == MG
    with pytest.raises(AddressError) as caught:
        parse_to(MG)
    assert caught.value.code == 21211


def test_short_mg_text_is_an_alphanumeric_sender_id() -> None:
    # Up to 11 characters with a letter is a valid sender ID, as Twilio would read it.
    assert parse_from("MG123").kind is AddressKind.ALPHANUMERIC


@pytest.mark.parametrize("raw", ["MG" + "g" * 32, MG + "0", "MG" + "0" * 31, "MG-" + "0" * 32])
def test_malformed_messaging_service_sid(raw: str) -> None:
    assert not is_messaging_service_sid(raw)
    with pytest.raises(AddressError):
        parse_from(raw)


def test_long_malformed_sid_gets_a_sid_message() -> None:
    with pytest.raises(AddressError, match="not a Messaging Service SID"):
        parse_from("MG" + "z" * 32)


def test_is_messaging_service_sid() -> None:
    assert is_messaging_service_sid(MG)
    assert is_messaging_service_sid(MG.upper().replace("MG", "MG", 1))
    assert not is_messaging_service_sid("mg" + MG[2:])
    assert not is_messaging_service_sid("AC" + MG[2:])
    assert not is_messaging_service_sid("")


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_empty_to_is_required(raw: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_to(raw)
    assert caught.value.code == 21604
    assert "'To' is required" in str(caught.value)


def test_empty_from_is_required() -> None:
    with pytest.raises(AddressError) as caught:
        parse_from("")
    assert caught.value.code == 21603
    assert "'From' is required" in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("+", "Add the country code and number after the '+'"),
        ("+ ( ) -", "Add the country code and number after the '+'"),
        ("4155550100", "needs a leading '+'"),
        ("(415) 555-0100", "needs a leading '+'"),
        ("0044 20 7946 0958", "Replace the leading 00"),
        ("+1 415 FLOWERS", "letters"),
        ("+1415555010x", "letters"),
        ("+1415*5550100", "has '*' in it"),
        ("+1 415 555 0100 ext 5", "letters"),
        ("415-555-CALL-NOW", "not a phone number"),
        ("+1415555010012345", "has 16 digits"),
        ("+0 415 555 0100", "no country code starts with 0"),
        ("+999 123 456", "known country code"),
        ("+12", "too short"),
        ("+1 415", "too short"),
        ("+1 415 555 01001", "too long"),
        ("+1 415 000 0000", "not a valid number for country code +1 (US)"),
        ("+44 20", "too short"),
    ],
)
def test_bad_to_numbers_say_what_is_wrong(raw: str, fragment: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_to(raw)
    error = caught.value
    assert error.code == 21211
    assert error.field == "To"
    assert fragment in str(error)
    assert str(error).endswith(".")
    assert "\n" not in str(error)


def test_from_errors_carry_from_code() -> None:
    with pytest.raises(AddressError) as caught:
        parse_from("+1 415 000 0000")
    assert caught.value.code == 21212
    assert caught.value.field == "From"


def test_long_input_is_cut_short_in_the_message() -> None:
    with pytest.raises(AddressError) as caught:
        parse_to("+1" + "x" * 500)
    assert len(str(caught.value)) < 200


def test_address_is_an_error_subclass_of_value_error() -> None:
    assert issubclass(AddressError, ValueError)


@given(st.text())
def test_parse_to_only_raises_address_error(raw: str) -> None:
    try:
        address = parse_to(raw)
    except AddressError as error:
        assert error.code in (21211, 21604)
        assert str(error)
    else:
        assert address.kind in (AddressKind.PHONE, AddressKind.CHANNEL, AddressKind.SHORT_CODE)


@given(st.text())
def test_parse_from_only_raises_address_error(raw: str) -> None:
    try:
        parse_from(raw)
    except AddressError as error:
        assert error.code in (21212, 21603)


@given(st.text(alphabet="+0123456789 -().:whatsapMGabcf&_\u00a0\uff11\u200e", max_size=40))
def test_address_like_text_only_raises_address_error(raw: str) -> None:
    for parse in (parse_to, parse_from):
        try:
            address = parse(raw)
        except AddressError as error:
            assert str(error).endswith(".")
        else:
            assert address.raw == raw
            assert address.normalized


@given(st.text(alphabet="+0123456789 -().", max_size=25))
def test_accepted_phones_are_e164(raw: str) -> None:
    try:
        address = parse_to(raw)
    except AddressError:
        return
    if address.kind is AddressKind.PHONE:
        assert address.e164 is not None
        assert address.normalized == address.e164
        assert address.e164.startswith("+")
        assert address.e164[1:].isdigit()
        assert len(address.e164) <= 16


def test_lenient_mode_accepts_possible_but_unassigned_numbers() -> None:
    """Twilio's own examples use +1 555 numbers; the local Twilio takes them (strict=False)
    while the compose pane keeps warning (strict, the default)."""
    with pytest.raises(AddressError):
        parse_to("+15558675309")
    lenient = parse_to("+15558675309", strict=False)
    assert lenient.e164 == "+15558675309" and lenient.region_code == "US"
    assert parse_from("whatsapp:+15558675309", strict=False).e164 == "+15558675309"
    with pytest.raises(AddressError):  # lengths are still checked
        parse_to("+1555867530", strict=False)
