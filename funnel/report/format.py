"""Numbers for people: thousands separators, money, percentages with one decimal, days.

Pure functions of one value; None (a metric with nothing to measure) shows as an en dash.
"""

from __future__ import annotations

from datetime import date

NONE = "–"


def count(value: float | None) -> str:
    """4238 -> '4,238'."""
    return NONE if value is None else f"{round(value):,}"


def money(value: float | None, currency: str | None = None, decimals: int = 2) -> str:
    """2360.9107 -> '2,360.91', or 'USD 2,360.91' when the warehouse has one currency."""
    if value is None:
        return NONE
    text = f"{value:,.{decimals}f}"
    return f"{currency} {text}" if currency else text


def percent(value: float | None) -> str:
    """0.63152 -> '63.2 %' (a share in 0..1, one decimal)."""
    return NONE if value is None else f"{value * 100:.1f} %"


def days(value: float | None) -> str:
    """57 -> '57 d', 42.5 -> '42.5 d' (one decimal at most)."""
    if value is None:
        return NONE
    text = f"{value:,.1f}".removesuffix(".0")
    return f"{text} d"


def per_day(value: float | None, currency: str | None = None) -> str:
    """Sales velocity: money per day."""
    return NONE if value is None else f"{money(value, currency)} / day"


def month(value: date | None) -> str:
    """date(2017, 12, 1) -> '2017-12'; None -> 'no date'."""
    return "no date" if value is None else f"{value:%Y-%m}"
