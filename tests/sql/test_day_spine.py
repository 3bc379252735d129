"""The day spine never starts before the first plausible day (issue 20, failure 4)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from funnel import sqlmodels
from funnel.quality.ranges import FIRST_PLAUSIBLE_DAY
from tests.sql.conftest import AS_OF, insert

SPINE_INPUTS = (
    "stg_leads",
    "stg_opportunities",
    "stg_stage_history",
    "stg_state_snapshots",
    "int_day_spine",
)


def _spine(con: duckdb.DuckDBPyConnection) -> tuple[date, date, int]:
    models = [m for m in sqlmodels.discover() if m.name in SPINE_INPUTS]
    sqlmodels.run_models(con, models)
    row = con.execute("select min(day), max(day), count(*) from int_day_spine").fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_a_date_before_1900_that_reached_the_models_cannot_stretch_the_spine(
    con: duckdb.DuckDBPyConnection,
) -> None:
    insert(con, "raw_leads", [{"lead_id": "L1", "created_at": datetime(2024, 3, 1, 9)}])
    insert(con, "raw_stage_history", [{"lead_id": "L9", "stage": "meeting",
                                       "entered_at": datetime(1, 1, 1)}])  # fmt: skip
    first, last, days = _spine(con)
    assert (first, last) == (FIRST_PLAUSIBLE_DAY, AS_OF) == (date(1900, 1, 1), date(2024, 3, 31))
    assert days == (AS_OF - FIRST_PLAUSIBLE_DAY).days + 1


def test_plausible_dates_start_the_spine_as_before(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, "raw_leads", [{"lead_id": "L1", "created_at": datetime(2024, 3, 1, 9)}])
    assert _spine(con) == (date(2024, 3, 1), AS_OF, 31)
