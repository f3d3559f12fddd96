"""Tests for tui.domain.segments: hand-checked vectors plus properties against a reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_BODY_CHARS,
    SMART_ENCODED_CHARS,
    Encoding,
    SegmentInfo,
    gsm7_cost,
    is_gsm7,
    is_over_body_limit,
    segment_info,
    smart_encode,
    smart_encoding_changes,
)

EURO = "\N{EURO SIGN}"
RSQUO = "\N{RIGHT SINGLE QUOTATION MARK}"
LDQUO = "\N{LEFT DOUBLE QUOTATION MARK}"
RDQUO = "\N{RIGHT DOUBLE QUOTATION MARK}"
EMOJI = "\N{GRINNING FACE}"  # U+1F600, outside the BMP: a surrogate pair in UTF-16
ZHE = "\N{CYRILLIC SMALL LETTER ZHE}"  # BMP, not GSM-7: 1 UCS-2 unit


# --- The alphabet -------------------------------------------------------------------------
# The GSM 03.38 basic table written out independently by code point, 16 per row, with "\x1b"
# (ESC) in its slot at 0x1B so the row arithmetic can be checked: 8 rows * 16 = 128.
GSM_TABLE_BY_CODE_POINT = (
    "\u0040\u00a3\u0024\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\u000a\u00d8\u00f8\u000d\u00c5\u00e5"
    "\u0394\u005f\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u001b\u00c6\u00e6\u00df\u00c9"
    ' !"#\u00a4%&' + "'()*+,-./"
    "0123456789:;<=>?"
    "\u00a1ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
    "\u00bfabcdefghijklmno"
    "pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"
)


def test_basic_table_is_the_128_code_points_minus_esc() -> None:
    assert len(GSM_TABLE_BY_CODE_POINT) == 128
    assert frozenset(GSM_TABLE_BY_CODE_POINT) - {"\x1b"} == GSM7_BASIC
    assert len(GSM7_BASIC) == 127


def test_extension_table() -> None:
    assert frozenset("^{}\\[~]|\f" + EURO) == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_is_gsm7_and_cost() -> None:
    for ch in GSM7_BASIC:
        assert is_gsm7(ch)
        assert gsm7_cost(ch) == 1
    for ch in GSM7_EXTENSION:
        assert is_gsm7(ch)
        assert gsm7_cost(ch) == 2
    for ch in ("`", "\x1b", "\t", RSQUO, EMOJI, ZHE, "\N{LATIN SMALL LETTER C WITH CEDILLA}"):
        assert not is_gsm7(ch)
        with pytest.raises(ValueError, match="not a GSM-7 character"):
            gsm7_cost(ch)


# --- Hand-checked GSM-7 vectors -------------------------------------------------------------
def test_empty_body_is_one_segment() -> None:
    # Twilio bills an empty body as 1 segment; 0 septets used, so all 160 are free.
    assert segment_info("") == SegmentInfo(
        encoding=Encoding.GSM7,
        segments=1,
        units=0,
        chars=0,
        remaining_in_segment=160,
        per_segment=160,
        ucs2_forcing=(),
        ucs2_forcing_positions=(),
        over_limit=False,
    )


def test_hello() -> None:
    # 5 basic chars = 5 septets; 160 - 5 = 155 left.
    info = segment_info("hello")
    assert (info.encoding, info.segments, info.units, info.chars) == (Encoding.GSM7, 1, 5, 5)
    assert (info.remaining_in_segment, info.per_segment) == (155, 160)
    assert not info.over_limit


def test_exactly_160_gsm_chars() -> None:
    # 160 septets = one full single segment, 0 left.
    info = segment_info("a" * 160)
    assert (info.segments, info.units, info.remaining_in_segment, info.per_segment) == (
        1,
        160,
        0,
        160,
    )


def test_161_gsm_chars() -> None:
    # 161 > 160 -> multi-part layout of 153: 153 + 8 -> 2 segments, 153 - 8 = 145 left.
    info = segment_info("a" * 161)
    assert (info.segments, info.units, info.remaining_in_segment, info.per_segment) == (
        2,
        161,
        145,
        153,
    )


def test_306_vs_307_gsm_chars() -> None:
    # 306 = 2 * 153 -> 2 full parts, 0 left; 307 = 153 + 153 + 1 -> 3 parts, 152 left.
    assert (segment_info("a" * 306).segments, segment_info("a" * 306).remaining_in_segment) == (
        2,
        0,
    )
    info = segment_info("a" * 307)
    assert (info.segments, info.remaining_in_segment) == (3, 152)


def test_extension_chars_cost_two() -> None:
    # 80 "€" = 80 * 2 = 160 septets -> 1 segment, 0 left.
    info = segment_info(EURO * 80)
    assert (info.encoding, info.segments, info.units, info.chars) == (Encoding.GSM7, 1, 160, 80)
    assert info.remaining_in_segment == 0
    # 81 "€" = 162 septets -> multi-part: 76 pairs fill part 1 with 152 (a 77th would need
    # 154 > 153), the other 5 pairs = 10 septets in part 2 -> 2 segments, 153 - 10 = 143 left.
    info = segment_info(EURO * 81)
    assert (info.segments, info.units, info.remaining_in_segment) == (2, 162, 143)
    # Every extension char is 2 septets, mixed with 1 basic: 10 * 2 + 1 = 21.
    assert segment_info("^{}\\[~]|\f" + EURO + "a").units == 21


def test_escape_pair_that_fits_a_single_segment() -> None:
    # 152 basic + "€" = 152 + 2 = 154 septets <= 160: still a single segment, 6 left.
    # (The boundary question only arises once the body needs the 153-septet layout.)
    info = segment_info("a" * 152 + EURO)
    assert (info.segments, info.units, info.remaining_in_segment) == (1, 154, 6)


def test_escape_pair_never_splits_across_parts() -> None:
    # 152 basic + "€" + 10 basic = 164 septets > 160 -> multi-part. Part 1 holds the 152
    # basic chars; the € needs 2 but only 1 is left, so it opens part 2: 2 + 10 = 12 used,
    # 153 - 12 = 141 left. (A naive 164 - 153 = 11 would claim 142 left.)
    info = segment_info("a" * 152 + EURO + "a" * 10)
    assert (info.segments, info.units, info.remaining_in_segment, info.per_segment) == (
        2,
        164,
        141,
        153,
    )


def test_escape_pair_at_boundary_adds_a_segment() -> None:
    # 152 basic + "€" + 152 basic = 306 septets, which naive division calls 2 * 153 = 2 parts.
    # Packed: part 1 = 152 (the € cannot split), part 2 = 2 + 151 = 153, part 3 = 1
    # -> 3 segments, 152 left.
    info = segment_info("a" * 152 + EURO + "a" * 152)
    assert (info.segments, info.units, info.remaining_in_segment) == (3, 306, 152)
    # One basic char fewer: part 2 = 2 + 151 = 153 exactly -> 2 segments, 0 left.
    info = segment_info("a" * 152 + EURO + "a" * 151)
    assert (info.segments, info.units, info.remaining_in_segment) == (2, 305, 0)


# --- Hand-checked UCS-2 vectors -------------------------------------------------------------
def test_curly_quote_forces_ucs2() -> None:
    # "It<RSQUO>s ok" = 7 chars, all BMP -> 7 UTF-16 units; 70 - 7 = 63 left.
    info = segment_info(f"It{RSQUO}s ok")
    assert info.encoding is Encoding.UCS2
    assert (info.segments, info.units, info.chars, info.remaining_in_segment) == (1, 7, 7, 63)
    assert info.per_segment == 70
    assert info.ucs2_forcing == (RSQUO,)
    assert info.ucs2_forcing_positions == (2,)


def test_forcing_chars_distinct_in_order_with_every_position() -> None:
    # Positions:  0 1 2 3 4 5
    body = f"{RSQUO}a`{RSQUO}{EMOJI}`"
    info = segment_info(body)
    assert info.ucs2_forcing == (RSQUO, "`", EMOJI)
    assert info.ucs2_forcing_positions == (0, 2, 3, 4, 5)
    # 5 BMP chars * 1 + 1 emoji * 2 = 7 units.
    assert info.units == 7


def test_backtick_forces_ucs2() -> None:
    info = segment_info("run `ls`")
    assert info.encoding is Encoding.UCS2
    assert info.ucs2_forcing == ("`",)
    assert info.ucs2_forcing_positions == (4, 7)


def test_emoji_costs_two_units() -> None:
    # One code point, but a surrogate pair in UTF-16: 2 units; 70 - 2 = 68 left.
    info = segment_info(EMOJI)
    assert (info.encoding, info.chars, info.units, info.remaining_in_segment) == (
        Encoding.UCS2,
        1,
        2,
        68,
    )


def test_exactly_70_ucs2_units() -> None:
    # 70 BMP non-GSM chars = 70 units = one full single segment.
    info = segment_info(ZHE * 70)
    assert (info.segments, info.units, info.remaining_in_segment, info.per_segment) == (
        1,
        70,
        0,
        70,
    )
    # 68 BMP + 1 emoji = 68 + 2 = 70 units: still one segment.
    assert segment_info(ZHE * 68 + EMOJI).segments == 1


def test_71_ucs2_units() -> None:
    # 71 > 70 -> multi-part layout of 67: 67 + 4 -> 2 segments, 67 - 4 = 63 left.
    info = segment_info(ZHE * 71)
    assert (info.segments, info.units, info.remaining_in_segment, info.per_segment) == (
        2,
        71,
        63,
        67,
    )


def test_surrogate_pair_never_splits_across_parts() -> None:
    # 66 BMP + emoji = 68 units <= 70: single segment, 2 left.
    info = segment_info(ZHE * 66 + EMOJI)
    assert (info.segments, info.units, info.remaining_in_segment) == (1, 68, 2)
    # 66 BMP + emoji + 5 BMP = 73 units > 70 -> multi-part. Part 1 = 66; the emoji needs 2 but
    # only 1 is left, so it opens part 2: 2 + 5 = 7 used, 67 - 7 = 60 left.
    info = segment_info(ZHE * 66 + EMOJI + ZHE * 5)
    assert (info.segments, info.units, info.remaining_in_segment) == (2, 73, 60)
    # 66 BMP + emoji + 66 BMP = 134 = 2 * 67 units, but packed: 66 | 2 + 65 = 67 | 1
    # -> 3 segments, 66 left.
    info = segment_info(ZHE * 66 + EMOJI + ZHE * 66)
    assert (info.segments, info.units, info.remaining_in_segment) == (3, 134, 66)


# --- The body limit -----------------------------------------------------------------------
def test_body_limit() -> None:
    assert MAX_BODY_CHARS == 1600
    # 1600 chars is allowed: 1600 septets -> ceil(1600 / 153) = 11 parts (10 * 153 = 1530,
    # 70 in part 11, 83 left).
    info = segment_info("a" * 1600)
    assert not info.over_limit
    assert (info.segments, info.remaining_in_segment) == (11, 83)
    assert not is_over_body_limit("a" * 1600)
    assert segment_info("a" * 1601).over_limit
    assert is_over_body_limit("a" * 1601)


def test_body_limit_counts_code_points_not_utf16_units() -> None:
    # 1600 emoji = 1600 code points (allowed) but 3200 UTF-16 units.
    info = segment_info(EMOJI * 1600)
    assert (info.chars, info.units, info.over_limit) == (1600, 3200, False)
    assert segment_info(EMOJI * 1601).over_limit


# --- Smart Encoding -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("original", "expected"),
    [
        # Double quotes.
        ("\u00ab\u00bb\u201c\u201d\u201e\u201f\uff02", '"' * 7),
        # Single quotes, accents, and the backtick.
        ("\u2018\u2019\u201b\u02bc\u00b4`", "'" * 6),
        # Dashes and hyphens.
        ("\u2013\u2014\u2015\u2010\u2011\u2012", "-" * 6),
        # Ellipsis, bullet, division sign, vulgar fractions.
        ("wait\u2026", "wait..."),
        ("\u2022 item", "- item"),
        ("6\u00f72", "6/2"),
        ("\u00bc \u00bd \u00be", "1/4 1/2 3/4"),
        # Full-width ASCII: U+FF01..U+FF5E are ASCII + 0xFEE0.
        ("\uff28\uff49\uff01 \uff10\uff19 \uff5b\uff5e\uff5d", "Hi! 09 {~}"),
        # ...and the full-width backtick ends up as an apostrophe, not a backtick.
        ("\uff40", "'"),
        # Unicode spaces.
        (
            "a\u00a0b\u2000c\u2005d\u200ae\u202ff\u205fg\u3000h",
            "a b c d e f g h",
        ),
        # Zero-width characters are removed.
        ("a\u200bb\u200cc\u200dd\u2060e\ufeff", "abcde"),
        # Tab becomes ONE space (our documented choice).
        ("a\tb\t\tc", "a b  c"),
        # Accented letters and GSM-7 text are left alone.
        ("Caf\u00e9 na\u00efve \u00c7a \u00e7a", "Caf\u00e9 na\u00efve \u00c7a \u00e7a"),
        ("plain GSM-7 @ \u00a3 \u20ac", "plain GSM-7 @ \u00a3 \u20ac"),
    ],
)
def test_smart_encode_vectors(original: str, expected: str) -> None:
    assert smart_encode(original) == expected


def test_smart_encoding_changes_distinct_in_order() -> None:
    body = f"{RDQUO}hi{LDQUO} \u2014 it{RSQUO}s{RSQUO}\u200b\u2026"
    assert smart_encoding_changes(body) == (
        (RDQUO, '"'),
        (LDQUO, '"'),
        ("\u2014", "-"),
        (RSQUO, "'"),
        ("\u200b", ""),
        ("\u2026", "..."),
    )
    assert smart_encoding_changes("nothing to do") == ()


def test_smart_encoded_turns_curly_quotes_back_to_gsm7() -> None:
    body = f"{LDQUO}Don{RSQUO}t{RDQUO}"
    assert segment_info(body).encoding is Encoding.UCS2
    info = segment_info(body, smart_encoded=True)
    # '"Don't"' = 7 basic septets -> single layout, 160 - 7 = 153 left.
    assert info.encoding is Encoding.GSM7
    assert (info.segments, info.units, info.remaining_in_segment) == (1, 7, 153)
    assert (info.ucs2_forcing, info.ucs2_forcing_positions) == ((), ())


def test_smart_encoded_reports_positions_in_the_body_as_given() -> None:
    # The ellipsis grows to 3 chars once encoded, but the emoji is still reported at index 2
    # of what the user typed; chars is the body as given.
    body = f"\u2026{RSQUO}{EMOJI}"
    info = segment_info(body, smart_encoded=True)
    assert info.encoding is Encoding.UCS2
    assert info.ucs2_forcing == (EMOJI,)
    assert info.ucs2_forcing_positions == (2,)
    assert info.chars == 3
    # Sent text "...'" + emoji = 4 + 2 = 6 UTF-16 units.
    assert info.units == 6


def test_smart_encoded_shrinking_body_changes_segment_count() -> None:
    # 161 basic chars + 10 zero-width spaces: UCS-2, 171 units -> 3 parts (67 + 67 + 37).
    body = "a" * 161 + "\u200b" * 10
    assert segment_info(body).segments == 3
    # Encoded: 161 septets -> 2 GSM-7 parts.
    info = segment_info(body, smart_encoded=True)
    assert (info.encoding, info.segments, info.units, info.chars) == (Encoding.GSM7, 2, 161, 171)


def test_smart_replacements_are_gsm7() -> None:
    for ch in SMART_ENCODED_CHARS:
        assert all(is_gsm7(c) for c in smart_encode(ch))


# --- Properties against an independent reference ------------------------------------------
def reference_layout(body: str) -> tuple[Encoding, int, int, int]:
    """(encoding, segments, units, remaining) by explicitly building the parts."""
    gsm = all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body)
    if gsm:
        costs = [2 if c in GSM7_EXTENSION else 1 for c in body]
        single, multi = 160, 153
    else:
        costs = [len(c.encode("utf-16-le", "surrogatepass")) // 2 for c in body]
        single, multi = 70, 67
    units = sum(costs)
    encoding = Encoding.GSM7 if gsm else Encoding.UCS2
    if units <= single:
        return encoding, 1, units, single - units
    parts: list[list[int]] = [[]]
    for cost in costs:
        if sum(parts[-1]) + cost > multi:
            parts.append([])
        parts[-1].append(cost)
    assert all(sum(p) <= multi for p in parts)
    assert sum(map(sum, parts)) == units
    return encoding, len(parts), units, multi - sum(parts[-1])


GSM_ALPHABET = sorted(GSM7_BASIC | GSM7_EXTENSION)
# Mostly GSM-7 with a few 1-unit and 2-unit non-GSM characters mixed in.
MIXED_ALPHABET = [*GSM_ALPHABET, ZHE, RSQUO, "`", EMOJI, "\N{PILE OF POO}", "\u4e2d"]
# Skew towards extension chars so pairs land on part boundaries often.
gsm_text = st.text(
    alphabet=st.one_of(st.sampled_from(GSM_ALPHABET), st.sampled_from(sorted(GSM7_EXTENSION))),
    max_size=700,
)
# Always contains a non-GSM char, so it is always UCS-2.
ucs2_text = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from([ZHE, EMOJI]),
    st.text(alphabet=st.sampled_from([ZHE, EMOJI, "a", "\u4e2d"]), max_size=300),
)
any_text = st.one_of(
    gsm_text, ucs2_text, st.text(alphabet=st.sampled_from(MIXED_ALPHABET)), st.text()
)


@given(any_text)
def test_matches_reference_layout(body: str) -> None:
    info = segment_info(body)
    assert (info.encoding, info.segments, info.units, info.remaining_in_segment) == (
        reference_layout(body)
    )
    assert info.chars == len(body)
    assert info.over_limit == (len(body) > MAX_BODY_CHARS)


@given(any_text)
def test_general_invariants(body: str) -> None:
    info = segment_info(body)
    assert info.segments >= 1
    assert 0 <= info.remaining_in_segment <= info.per_segment
    if info.encoding is Encoding.GSM7:
        assert info.per_segment == (160 if info.segments == 1 else 153)
        assert info.ucs2_forcing == () == info.ucs2_forcing_positions
    else:
        assert info.per_segment == (70 if info.segments == 1 else 67)
        assert info.ucs2_forcing
        assert len(set(info.ucs2_forcing)) == len(info.ucs2_forcing)
        assert [body[i] for i in info.ucs2_forcing_positions] == [c for c in body if not is_gsm7(c)]
        assert set(info.ucs2_forcing) == {body[i] for i in info.ucs2_forcing_positions}


@given(gsm_text)
def test_gsm_segment_bounds(body: str) -> None:
    info = segment_info(body)
    assert info.encoding is Encoding.GSM7
    if info.units <= 160:
        assert info.segments == 1
    else:
        # A pair pushed to the next part wastes at most 1 septet per part, so every part but
        # the last holds 152 or 153: ceil(units / 153) <= segments <= ceil(units / 152).
        assert math.ceil(info.units / 153) <= info.segments <= math.ceil(info.units / 152)
        if not any(c in GSM7_EXTENSION for c in body):
            assert info.segments == math.ceil(info.units / 153)


@given(ucs2_text)
def test_ucs2_segment_bounds(body: str) -> None:
    info = segment_info(body)
    assert info.encoding is Encoding.UCS2
    assert info.units == len(body.encode("utf-16-le")) // 2
    if info.units > 70:
        assert math.ceil(info.units / 67) <= info.segments <= math.ceil(info.units / 66)


@given(st.text())
def test_smart_encode_is_idempotent(body: str) -> None:
    once = smart_encode(body)
    assert smart_encode(once) == once


@given(st.text(alphabet=st.sampled_from([*sorted(SMART_ENCODED_CHARS), "a", "\u00e9"])))
def test_smart_encode_output_has_no_mapped_chars(body: str) -> None:
    out = smart_encode(body)
    assert not set(out) & SMART_ENCODED_CHARS
    assert smart_encoding_changes(out) == ()


@given(st.text())
def test_smart_encode_output_never_contains_mapped_chars_any_text(body: str) -> None:
    assert not set(smart_encode(body)) & SMART_ENCODED_CHARS


@given(st.text())
def test_smart_encoded_info_matches_plain_info_of_encoded_text(body: str) -> None:
    smart = segment_info(body, smart_encoded=True)
    plain = segment_info(smart_encode(body))
    assert (smart.encoding, smart.segments, smart.units, smart.remaining_in_segment) == (
        plain.encoding,
        plain.segments,
        plain.units,
        plain.remaining_in_segment,
    )
    assert smart.ucs2_forcing == plain.ucs2_forcing
    assert smart.chars == len(body)
    assert [body[i] for i in smart.ucs2_forcing_positions] == [
        smart_encode(body)[i] for i in plain.ucs2_forcing_positions
    ]
