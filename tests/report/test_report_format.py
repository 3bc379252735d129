"""Numbers formatted for people in the report."""

from __future__ import annotations

from datetime import date

from funnel.report import format as fmt
from funnel.report.model import Table


def test_counts_money_percentages_days() -> None:
    assert fmt.count(4238) == "4,238"
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.money(2360.9107) == "2,360.91"
    assert fmt.money(1153214, "EUR", 0) == "EUR 1,153,214"
    assert fmt.percent(0.631520) == "63.2 %"
    assert fmt.percent(1) == "100.0 %"
    assert fmt.days(57) == "57 d"
    assert fmt.days(42.5) == "42.5 d"
    assert fmt.days(1234.04) == "1,234 d"
    assert fmt.per_day(18834.684) == "18,834.68 / day"
    assert fmt.month(date(2017, 12, 1)) == "2017-12"
    assert fmt.month(None) == "no date"


def test_missing_values_show_as_a_dash() -> None:
    for f in (fmt.count, fmt.money, fmt.percent, fmt.days, fmt.per_day):
        assert f(None) == "–"


def test_a_wide_table_goes_under_its_chart() -> None:
    narrow = Table(["stage", "records"], [["prospecting", "436"]])
    wide = Table([f"column {i}" for i in range(8)], [["1,234,567.89"] * 8])
    assert (narrow.wide, wide.wide) == (False, True)
