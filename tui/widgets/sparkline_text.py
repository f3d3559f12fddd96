"""A trend as a row of block characters (▁▂▃▅▇), small enough for a table cell."""

from __future__ import annotations

from collections.abc import Sequence

BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """One character per value, scaled to the largest; zero is a blank, any non-zero
    value at least the lowest bar so a single failure stays visible."""
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    steps = len(BARS) - 1
    return "".join(BARS[0 if v <= 0 else max(1, round(v / top * steps))] for v in values)
