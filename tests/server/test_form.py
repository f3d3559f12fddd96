"""The receiver's form parser is parse_qsl's exact equal, only faster."""

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.server.form import MAX_FIELDS, BadRequest, parse_pairs

# Pieces that matter to form encoding (escapes whole and broken, the "%2B" of a phone
# number in both cases), plus anything at all.
PIECES = [
    "a",
    "b",
    "B",
    "2",
    "=",
    "&",
    "+",
    "%",
    ";",
    "é",
    " ",
    "%2B",
    "%2b",
    "%20",
    "%C3%A9",
    "%FF",
]
FORMISH = st.lists(st.sampled_from(PIECES) | st.characters(), max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(FORMISH)
def test_equals_parse_qsl(text: str) -> None:
    try:
        expected = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        with pytest.raises(BadRequest) as caught:
            parse_pairs(text, "form body")
        assert caught.value.status == 400
        return
    assert list(parse_pairs(text, "form body")) == expected


@pytest.mark.parametrize(
    "text",
    ["To=%2B14155550100", "To=%2B1%2B2", "To=%2B1+2", "To=%2B%20", "To=%2b1", "To=1%2", "%2B=%2B"],
)
def test_phone_number_escapes(text: str) -> None:
    assert list(parse_pairs(text, "form body")) == parse_qsl(text, keep_blank_values=True)


def test_field_limit() -> None:
    assert len(parse_pairs("&".join(["a=1"] * MAX_FIELDS), "form")) == MAX_FIELDS
    with pytest.raises(BadRequest) as caught:
        parse_pairs("&".join(["a=1"] * (MAX_FIELDS + 1)), "form")
    assert caught.value.status == 413
