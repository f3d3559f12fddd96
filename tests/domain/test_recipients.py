"""Bulk-send recipient lists: splitting, comments, dedupe, bad lines, the cap."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.recipients import MAX_RECIPIENTS, BadRecipient, RecipientList, parse_recipients

US = "+14155550100"
UK = "+447400123456"
FR = "+33612345678"


def test_empty_text_is_an_empty_list() -> None:
    for text in ("", "\n\n", "  \n\t\n", "# only a comment\n"):
        assert parse_recipients(text) == RecipientList((), 0, (), truncated=False)


def test_mixed_separators_and_spaces_inside_numbers() -> None:
    text = f"{US}, +44 7400 123456;{FR}\twhatsapp:{US}\n  +1 (415) 555-0101  \n"
    result = parse_recipients(text)
    assert result.valid == (US, UK, FR, f"whatsapp:{US}", "+14155550101")
    assert result.duplicates == 0
    assert result.invalid == ()
    assert not result.truncated


def test_comments_and_blank_lines_are_skipped_but_counted_as_lines() -> None:
    text = f"# customers\n\n   # indented comment, {US}\n{UK}\nphone\n"
    result = parse_recipients(text)
    assert result.valid == (UK,)
    assert [bad.line for bad in result.invalid] == [5]


def test_dedupe_happens_after_normalization() -> None:
    result = parse_recipients(f"+1 415 555 0100\n{US}\n{UK},+1-415-555-0100;+44 7400 123456")
    assert result.valid == (US, UK)
    assert result.duplicates == 3


def test_whatsapp_and_sms_to_one_number_are_two_recipients() -> None:
    result = parse_recipients(f"WhatsApp:+1 415 555 0100\n{US}\nwhatsapp:{US}")
    assert result.valid == (f"whatsapp:{US}", US)
    assert result.duplicates == 1


def test_short_codes_are_recipients() -> None:
    assert parse_recipients("12345, 654321").valid == ("12345", "654321")


def test_invalid_entries_keep_their_line_and_reason() -> None:
    text = "phone, name\n" + US + "\n\n+1 415 555\n00447400123456; messenger:123\n"
    result = parse_recipients(text)
    assert result.valid == (US,)
    assert [(bad.line, bad.raw) for bad in result.invalid] == [
        (1, "phone"),
        (1, "name"),
        (4, "+1 415 555"),
        (5, "00447400123456"),
        (5, "messenger:123"),
    ]
    messages = [bad.message for bad in result.invalid]
    assert "alphanumeric sender ID" in messages[0]
    assert "too short" in messages[2]
    assert "00" in messages[3] and "'+'" in messages[3]
    assert "does not send on 'messenger:'" in messages[4]


def test_long_invalid_entries_are_cut_to_forty_characters() -> None:
    token = "x" * 100
    (bad,) = parse_recipients(token).invalid
    assert bad == BadRecipient(1, "x" * 39 + "\u2026", bad.message)
    assert len(bad.raw) == 40


def test_windows_line_endings_and_byte_order_mark() -> None:
    result = parse_recipients(f"\ufeff{US}\r\n{UK}\r\nbad\r\n")
    assert result.valid == (US, UK)
    assert result.invalid[0].line == 3


def test_truncation_keeps_the_first_limit() -> None:
    numbers = [f"+1415555{n:04d}" for n in range(100, 106)]
    result = parse_recipients("\n".join(numbers), limit=4)
    assert result.valid == tuple(numbers[:4])
    assert result.truncated


def test_exactly_limit_is_not_truncated_and_duplicates_do_not_count() -> None:
    numbers = [f"+1415555{n:04d}" for n in range(100, 104)]
    result = parse_recipients("\n".join([*numbers, *numbers]), limit=4)
    assert result.valid == tuple(numbers)
    assert result.duplicates == 4
    assert not result.truncated


def test_default_limit_is_ten_thousand() -> None:
    assert MAX_RECIPIENTS == 10_000
    # Short codes: valid To addresses that skip the (slow) phone number lookup.
    codes = [str(n) for n in range(10_000, 10_000 + MAX_RECIPIENTS + 1)]
    result = parse_recipients("\n".join(codes))
    assert result.valid == tuple(codes[:MAX_RECIPIENTS])
    assert result.truncated


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        parse_recipients(US, limit=-1)


def test_strict_false_accepts_unassigned_demo_numbers() -> None:
    demo = "+15555550100"
    assert parse_recipients(demo).valid == ()
    assert parse_recipients(demo, strict=False).valid == (demo,)


@given(
    st.lists(st.integers(min_value=100, max_value=199), max_size=30),
    st.sampled_from([",", ";", "\t", "\n", " , ", "\n# note\n"]),
)
def test_every_entry_is_accounted_for(suffixes: list[int], separator: str) -> None:
    numbers = [f"+1415555{n:04d}" for n in suffixes]
    result = parse_recipients(separator.join(numbers))
    assert result.valid == tuple(dict.fromkeys(numbers))
    assert len(result.valid) + result.duplicates == len(numbers)
    assert result.invalid == ()
