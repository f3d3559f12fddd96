"""RawDlrDoneDate: the carrier's YYMMDDhhmm receipt time, and every malformed shape of it."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.dlr import DlrDateError, parse_raw_dlr_done_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2507011930", datetime(2025, 7, 1, 19, 30, tzinfo=UTC)),
        ("0001010000", datetime(2000, 1, 1, 0, 0, tzinfo=UTC)),
        ("9912312359", datetime(2099, 12, 31, 23, 59, tzinfo=UTC)),
        ("2402291200", datetime(2024, 2, 29, 12, 0, tzinfo=UTC)),
        (" 2507011930 ", datetime(2025, 7, 1, 19, 30, tzinfo=UTC)),
    ],
)
def test_valid_dates(raw: str, expected: datetime) -> None:
    parsed = parse_raw_dlr_done_date(raw)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("raw", [None, ""])
def test_absent_gives_none(raw: str | None) -> None:
    assert parse_raw_dlr_done_date(raw) is None


@pytest.mark.parametrize("raw", ["250701193", "25070119300", "2507", "   ", "202507011930"])
def test_wrong_length(raw: str) -> None:
    with pytest.raises(DlrDateError, match="expected 10 digits"):
        parse_raw_dlr_done_date(raw)


@pytest.mark.parametrize("raw", ["25-07-0119", "2507011g30", "2507011.30", "٢٥٠٧٠١١٩٣٠"])
def test_non_digits(raw: str) -> None:
    with pytest.raises(DlrDateError, match="digits only"):
        parse_raw_dlr_done_date(raw)


@pytest.mark.parametrize(
    "raw",
    ["2513011200", "2500011200", "2502301200", "2502291200", "2507012400", "2507011260"],
)
def test_impossible_dates(raw: str) -> None:
    # month 13, month 0, 30 Feb, 29 Feb in a non-leap year, hour 24, minute 60
    with pytest.raises(DlrDateError, match="not a real date"):
        parse_raw_dlr_done_date(raw)


def test_error_is_a_value_error() -> None:
    assert issubclass(DlrDateError, ValueError)


@given(st.text())
def test_never_raises_anything_but_dlr_date_error(raw: str) -> None:
    try:
        parsed = parse_raw_dlr_done_date(raw)
    except DlrDateError as error:
        assert str(error)
        assert len(str(error)) < 200
    else:
        assert parsed is None or parsed.tzinfo is UTC


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59)))
def test_round_trip(moment: datetime) -> None:
    raw = moment.strftime("%y%m%d%H%M")
    expected = moment.replace(second=0, microsecond=0, tzinfo=UTC)
    assert parse_raw_dlr_done_date(raw) == expected
