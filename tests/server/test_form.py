"""The receiver's form parser is parse_qsl's exact equal, only faster."""

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.server.form import MAX_FIELDS, BadRequest, parse_pairs

# Characters that matter to form encoding, plus anything at all.
FORMISH = st.text(alphabet=st.sampled_from("ab=&+%20%C3%A9%FF;é ") | st.characters(), max_size=60)


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


def test_field_limit() -> None:
    assert len(parse_pairs("&".join(["a=1"] * MAX_FIELDS), "form")) == MAX_FIELDS
    with pytest.raises(BadRequest) as caught:
        parse_pairs("&".join(["a=1"] * (MAX_FIELDS + 1)), "form")
    assert caught.value.status == 413
