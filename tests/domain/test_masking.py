import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.masking import mask_address, mask_body, mask_numbers_in, mask_secret


def test_shows_only_the_last_four() -> None:
    assert mask_secret("0123456789abcdef") == "************cdef"


def test_short_secrets_show_nothing() -> None:
    assert mask_secret("abcd") == "********"
    assert mask_secret("abcdefgh") == "********"


# Presenter mode -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("+447400123456", "+44 ••••••••56"),
        ("whatsapp:+14155550100", "whatsapp:+1 ••••••••00"),
        ("+33612345678", "+33 •••••••78"),
        ("+4915112345678", "+49 •••••••••78"),
        ("+8613800138000", "+86 •••••••••00"),
        ("+35312345678", "+353 ••••••78"),  # three-digit country code
        ("+1 415 555 0100", "+1 ••••••••00"),  # formatted as people write it
        ("+999123456789", "+9 •••••••••89"),  # no such country code: one digit kept
        ("messenger:123456789", "messenger:•••••••89"),
        ("someone@example.com", "•••••••••••••••••om"),
        ("14155550100", "•••••••••00"),  # a WhatsApp ID: the number without its '+'
        ("a@bc", "••••"),  # too short to show any of it
        ("", ""),
    ],
)
def test_mask_address_hides_all_but_country_and_last_two(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    "business",
    ["12345", "654321", "MG" + "0123456789abcdef" * 2, "Acme", "ACME Bank", "Shop-24"],
)
def test_mask_address_leaves_business_senders_alone(business: str) -> None:
    assert mask_address(business) == business


def test_mask_address_none_is_none() -> None:
    assert mask_address(None) is None


@given(st.integers(min_value=10**9, max_value=10**14 - 1))
def test_masked_phone_never_shows_more_than_the_country_and_last_two(n: int) -> None:
    e164 = f"+{n}"
    masked = mask_address(e164)
    assert masked is not None
    head, tail = masked.split(" ")
    assert e164.startswith(head) and len(head) <= 4
    assert tail.endswith(e164[-2:])
    assert set(tail[:-2]) == {"•"}
    assert len(head) - 1 + len(tail) == len(e164) - 1  # one bullet per hidden digit


def test_mask_body_keeps_only_the_length() -> None:
    assert mask_body("Your code is 123456") == "\u2039hidden: 19 characters\u203a"
    assert mask_body("k") == "\u2039hidden: 1 character\u203a"
    assert mask_body("") == ""
    assert mask_body(None) is None


def test_mask_numbers_in_text_keeps_the_words() -> None:
    assert mask_numbers_in("The 'To' number +15005550001 is not a valid phone number.") == (
        "The 'To' number +1 ••••••••01 is not a valid phone number."
    )
    assert mask_numbers_in("From (+44 7400 123456) to whatsapp:+33612345678") == (
        "From (+44 ••••••••56) to whatsapp:+33 •••••••78"
    )
    assert mask_numbers_in("Error 30003 after +5 retries") == "Error 30003 after +5 retries"
    assert mask_numbers_in("") == ""
    assert mask_numbers_in(None) is None
