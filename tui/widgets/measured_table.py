"""A DataTable whose header always has its columns' current widths.

Textual's DataTable measures new rows when it is next idle, and caches what it renders
under a count of its updates, not under the columns' widths. A frame drawn between
`add_row` and that measurement caches the header at the old widths (its labels' widths,
for a table that was empty). The measurement changes the widths but not that count, so
the rows drawn afterwards are wide and the cached header stays narrow until something
else invalidates it: seen once in CI as a triage snapshot whose header did not line up
with its rows (the frame came first under load).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class MeasuredTable(DataTable[Any]):
    """A DataTable that redraws everything once measuring its rows changed a width.

    It hooks a private method of Textual's; if that is renamed, the hook stops running and
    tests/ui/test_measured_table.py fails (unless Textual fixed the header itself)."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        before = self._render_widths()
        super()._update_dimensions(new_rows)
        if self._render_widths() != before:
            # The update count keys every render cache, so this retires the stale header.
            self._update_count += 1
            self.refresh()

    def _render_widths(self) -> list[int]:
        return [column.get_render_width(self) for column in self.ordered_columns]
