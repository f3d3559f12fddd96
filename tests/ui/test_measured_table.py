"""The triage, detail and scheduled tables keep their header in line with their rows when a
frame is drawn before the table has measured rows just added (CI's load once made that
frame come first, and a triage snapshot showed the header at its labels' widths)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from tui.widgets.measured_table import MeasuredTable


class OneTable(App[None]):
    CSS = "DataTable { height: auto; }"

    def __init__(self, table: DataTable) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


def frame(table: DataTable) -> list[str]:
    return [strip.text.rstrip() for strip in table.render_lines(Region(0, 0, *table.size))]


async def lines_after_an_early_frame(table: DataTable) -> list[str]:
    async with OneTable(table).run_test(size=(80, 10)) as pilot:
        table.add_columns("error", "title", "count")
        await pilot.pause()
        table.add_row("30003", "Unreachable destination handset", "2")
        table.refresh()
        frame(table)  # drawn before the table's idle handler measured the new row
        await pilot.pause()
        await pilot.pause()
        return frame(table)


async def test_the_header_follows_the_widths_of_rows_measured_after_a_frame() -> None:
    assert await lines_after_an_early_frame(MeasuredTable()) == [
        " error  title                            count",
        " 30003  Unreachable destination handset  2",
    ]


async def test_the_same_frames_leave_textuals_own_table_with_a_stale_header() -> None:
    """Proves the scenario above is the one MeasuredTable exists for. A Textual that has
    fixed it upstream skips this (shown by `-ra`) instead of failing a fresh install."""
    header, row = await lines_after_an_early_frame(DataTable())
    if header == " error  title                            count":
        pytest.skip("Textual's DataTable keeps its header in line now: MeasuredTable can go")
    assert header == " error  title  count"
    assert row == " 30003  Unreachable destination handset  2"
