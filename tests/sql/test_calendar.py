"""The fiscal calendar: fiscal years from any start month, labels, bounds, offsets, weeks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from funnel import sqlmodels
from tests.sql.conftest import create_inputs, fetch, insert


def _calendar(start_month: int, week_start: str, as_of: date) -> dict[date, dict[str, Any]]:
    con = duckdb.connect()
    try:
        create_inputs(con, as_of=as_of, fiscal_year_start_month=start_month, week_start=week_start)
        insert(con, "raw_leads", [{"lead_id": "L1", "created_at": datetime(2022, 7, 9, 9)}])
        wanted = {"stg_calendar_config", "int_day_spine", "int_calendar__days", "calendar"}
        wanted |= {"stg_leads", "stg_opportunities", "stg_stage_history", "stg_state_snapshots"}
        sqlmodels.run_models(con, [m for m in sqlmodels.discover() if m.name in wanted])
        return {row["day"]: row for row in fetch(con, "select * from calendar")}
    finally:
        con.close()


def test_a_fiscal_year_from_april() -> None:
    days = _calendar(4, "sunday", date(2024, 5, 15))
    # whole fiscal years, from the earliest data (2022-07-09, FY2023) to the year after as-of's
    assert (min(days), max(days)) == (date(2022, 4, 1), date(2026, 3, 31))
    assert len(days) == (date(2026, 3, 31) - date(2022, 4, 1)).days + 1
    march, april, today = days[date(2024, 3, 31)], days[date(2024, 4, 1)], days[date(2024, 5, 15)]
    assert (march["fiscal_year_label"], march["fiscal_quarter_label"]) == ("FY2024", "FY2024-Q4")
    assert (march["fiscal_month"], march["fiscal_quarter_offset"]) == (12, -1)
    assert april["fiscal_year_label"] == "FY2025"
    assert (april["fiscal_year_start"], april["fiscal_year_end"]) == (
        date(2024, 4, 1),
        date(2025, 3, 31),
    )
    assert (today["fiscal_quarter_start"], today["fiscal_quarter_end"]) == (
        date(2024, 4, 1),
        date(2024, 6, 30),
    )
    assert (today["fiscal_month_label"], today["fiscal_month_offset"]) == ("FY2025-M02", 0)
    assert (today["fiscal_quarter_offset"], today["fiscal_year_offset"]) == (0, 0)
    assert today["week_start"] == date(2024, 5, 12)  # the Sunday before a Wednesday
    assert today["is_as_of_day"] and not april["is_as_of_day"]
    q4 = days[date(2025, 1, 1)]
    assert (q4["fiscal_quarter_label"], q4["fiscal_quarter_end"]) == (
        "FY2025-Q4",
        date(2025, 3, 31),
    )


def test_calendar_years_by_default() -> None:
    days = _calendar(1, "monday", date(2024, 5, 15))
    assert (min(days), max(days)) == (date(2022, 1, 1), date(2025, 12, 31))
    today = days[date(2024, 5, 15)]
    assert (today["fiscal_year_label"], today["fiscal_quarter_label"]) == ("FY2024", "FY2024-Q2")
    assert (today["fiscal_month"], today["week_start"]) == (5, date(2024, 5, 13))
    assert days[date(2023, 12, 31)]["fiscal_quarter_offset"] == -2
