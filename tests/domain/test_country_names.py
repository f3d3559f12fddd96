"""Country names without the geocoder: the same answers, and the geocoder never loaded."""

from __future__ import annotations

import subprocess
import sys

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType, geocoder

from tests.domain.country_name_source import geocoder_names
from tui.domain.country_name_table import ENGLISH
from tui.domain.country_names import country_name_for_number, region_name

TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE)


def test_the_table_is_the_installed_geocoders() -> None:
    assert geocoder_names() == ENGLISH, (
        "phonenumbers' country names changed: run `make country-names` and commit the table"
    )


def _examples() -> list[phonenumbers.PhoneNumber]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers.append(example)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            numbers.append(example)
    # Possible but valid nowhere (Twilio's docs use +1 555 ...); valid in several NANP
    # regions at once (Twilio's magic test numbers), which the geocoder names by none.
    numbers.append(phonenumbers.parse("+15551234567"))
    numbers.append(phonenumbers.parse("+15005550006"))
    return numbers


def test_every_example_number_is_named_as_the_geocoder_names_it() -> None:
    examples = _examples()
    assert len(examples) > 600  # every region, several kinds each
    for number in examples:
        expected = geocoder.country_name_for_number(number, "en") or None
        assert country_name_for_number(number) == expected, phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.E164
        )


@pytest.mark.parametrize(
    ("number", "name"),
    [
        ("+14155550100", "United States"),
        ("+16132345678", "Canada"),
        ("+15551234567", None),  # possible, valid in no NANP region
        ("+15005550006", None),  # Twilio's magic test number: valid in several, named by none
        ("+447400123456", "United Kingdom"),
        ("+447911123456", "Guernsey"),  # a Guernsey mobile range inside +44 7
        ("+441481256789", "Guernsey"),
        ("+79123456789", "Russia"),
        ("+77012345678", "Kazakhstan"),
        ("+2250123456789", "Côte d'Ivoire"),
    ],
)
def test_shared_calling_codes_are_named_by_the_region_the_number_is_valid_in(
    number: str, name: str | None
) -> None:
    parsed = phonenumbers.parse(number)
    assert country_name_for_number(parsed) == name
    assert (geocoder.country_name_for_number(parsed, "en") or None) == name


def test_region_names() -> None:
    assert region_name("GB") == "United Kingdom"
    assert region_name("XK") is None  # supported by phonenumbers, unnamed by its geocoder
    assert region_name("ZZ") is None
    assert region_name(None) is None


def test_naming_numbers_does_not_load_the_geocoder() -> None:
    # In a fresh interpreter: this test process has imported the geocoder above.
    code = """
import sys
from tui.domain.addresses import parse_from, parse_to
from tui.services.compose_form import to_note
from tui.services.triage import country_name
assert parse_to("+49 151 12345678", named=True).region_name == "Germany"
assert parse_from("+16132345678", named=True).region_name == "Canada"
assert country_name("FR") == "France"
to_note("+44 7911 123456")
heavy = ("phonenumbers.geocoder", "phonenumbers.geodata")
loaded = sorted(m for m in sys.modules if m.startswith(heavy))
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
