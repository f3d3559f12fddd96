"""Country names for phone numbers, without phonenumbers' geocoder.

`phonenumbers.geocoder.country_name_for_number` answers with one of 250 names, but
importing it loads every per-prefix place description phonenumbers has: measured here,
+99 MiB of resident memory and ~0.5 s of CPU. The names are copied into
country_name_table.py (tests/domain/test_country_names.py checks them against the
installed phonenumbers) and looked up the way the geocoder does.
"""

from __future__ import annotations

import phonenumbers

from .country_name_table import ENGLISH


def region_name(region_code: str | None) -> str | None:
    """English name of an ISO region code ("GB" -> "United Kingdom"); None if unnamed."""
    return ENGLISH.get(region_code) if region_code else None


def country_name_for_number(number: phonenumbers.PhoneNumber) -> str | None:
    """What `geocoder.country_name_for_number(number, "en")` says, None for its "": the
    name of the number's country, or of the one region of a shared calling code (+1, +7,
    +44, ...) it is valid in."""
    regions = phonenumbers.region_codes_for_country_code(number.country_code or 0)
    if len(regions) == 1:
        return region_name(str(regions[0]))
    valid_in: str | None = None
    for region in regions:
        if phonenumbers.is_valid_number_for_region(number, region):
            if valid_in is not None:
                return None  # valid in two regions: the geocoder names neither
            valid_in = str(region)
    return region_name(valid_in)
