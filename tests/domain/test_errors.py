"""The error catalog: every code msgwatch promises to explain, and unknown or garbage codes."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.errors import CATALOG, ErrorInfo, docs_url, explain

# Exactly the codes of the Message resource's delivery-related errors table, plus four more.
DELIVERY_CODES = [
    30001, 30002, 30003, 30004, 30005, 30006, 30007, 30008, 30009, 30010,
    63001, 63002, 63003, 63005, 63006, 63007, 63008, 63009, 63010, 63012, 63013, 63014,
    30032, 30034, 30036, 30500,
]  # fmt: skip
CREATE_CODES = [
    20003, 20404, 20429, 21211, 21212, 21408, 21603, 21604, 21606, 21608, 21610, 21611,
    21612, 21614, 21617, 21624, 21635, 35111, 35114, 35115, 35118, 35126, 14107, 63017, 20007,
]  # fmt: skip
REQUIRED = DELIVERY_CODES + CREATE_CODES

RETRYABLE = [30001, 30003, 30008, 30036, 30500, 63010, 63012, 20429, 21611, 14107, 63017]
PERMANENT = [21610, 21211, 21212, 30004, 30006, 30007, 21614, 21635, 20003, 21408, 30002]


@pytest.mark.parametrize("code", REQUIRED)
def test_every_required_code_is_catalogued_with_content(code: int) -> None:
    info = CATALOG[code]
    assert info.code == code
    assert info.known
    for text in (info.title, info.explanation, info.next_step):
        assert text.strip()
        assert "\n" not in text
    assert info.docs_url == f"https://www.twilio.com/docs/api/errors/{code}"


def test_catalog_keys_match_their_entries() -> None:
    assert all(key == info.code for key, info in CATALOG.items())
    assert len(REQUIRED) == len(set(REQUIRED))


def test_catalog_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATALOG[1] = CATALOG[30003]  # type: ignore[index]


def test_entries_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CATALOG[30003].title = "x"  # type: ignore[misc]


@pytest.mark.parametrize("code", RETRYABLE)
def test_transient_codes_are_retryable(code: int) -> None:
    assert CATALOG[code].retryable


@pytest.mark.parametrize("code", PERMANENT)
def test_permanent_codes_are_not_retryable(code: int) -> None:
    assert not CATALOG[code].retryable


def test_titles_follow_twilio() -> None:
    assert CATALOG[30003].title == "Unreachable destination handset"
    assert CATALOG[30007].title == "Carrier violation"
    assert CATALOG[21610].title == "Recipient unsubscribed"
    assert "START" in CATALOG[21610].next_step


def test_docs_url_function() -> None:
    assert docs_url(30003) == "https://www.twilio.com/docs/api/errors/30003"


@pytest.mark.parametrize("code", [30003, "30003", " 30003 ", "30003\n"])
def test_explain_accepts_int_and_str(code: int | str) -> None:
    assert explain(code) is CATALOG[30003]


def test_unknown_numeric_code_renders() -> None:
    info = explain(12345)
    assert info is not None
    assert not info.known
    assert info.code == 12345
    assert info.title == "Twilio error 12345"
    assert info.explanation == "Not in msgwatch's catalog; see the Twilio docs."
    assert info.next_step
    assert not info.retryable
    assert info.docs_url == "https://www.twilio.com/docs/api/errors/12345"
    assert explain("99999") == ErrorInfo(
        99999,
        "Twilio error 99999",
        "Not in msgwatch's catalog; see the Twilio docs.",
        info.next_step.replace("12345", "99999"),
        retryable=False,
        known=False,
    )


@pytest.mark.parametrize(
    "garbage",
    [None, "", "   ", "abc", "30003abc", "-30003", "3.5", "0", 0, -1, "١٢٣", "1234567", True],
)
def test_empty_or_garbage_gives_none(garbage: object) -> None:
    assert explain(garbage) is None  # type: ignore[arg-type]


@given(st.one_of(st.text(), st.integers(), st.none()))
def test_explain_never_raises(code: str | int | None) -> None:
    info = explain(code)
    assert info is None or info.code > 0
