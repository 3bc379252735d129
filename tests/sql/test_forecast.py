"""pipeline_forecast's probabilities and forecast_lookback on a few opportunities (as-of
2024-03-31; this test's config has no default probability for negotiation)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from tests.sql.conftest import fetch, insert

OPPORTUNITIES: list[dict[str, Any]] = [
    # open in proposal with its own probability: March's pipeline at 0.5
    {"opportunity_id": "F1", "stage": "proposal", "probability": 0.5, "amount": 1000.0,
     "created_at": datetime(2024, 1, 10), "expected_close_date": date(2024, 3, 20)},
    # won in March; in proposal on March 1st (its history), so weighted at proposal's 0.4
    {"opportunity_id": "F2", "stage": "won", "probability": 1.0, "amount": 2000.0,
     "created_at": datetime(2024, 1, 5), "expected_close_date": date(2024, 3, 15),
     "closed_at": datetime(2024, 3, 15)},
    # open in negotiation, no probability of its own, no default: weighs 0
    {"opportunity_id": "F3", "stage": "negotiation", "amount": 3000.0,
     "created_at": datetime(2024, 2, 1), "expected_close_date": date(2024, 3, 25)},
    # won in March, created after March 1st: won but never in the month's starting pipeline
    {"opportunity_id": "F4", "stage": "won", "amount": 500.0,
     "created_at": datetime(2024, 3, 5), "expected_close_date": date(2024, 3, 10),
     "closed_at": datetime(2024, 3, 10)},
    # expected in February, in meeting on February 1st, lost on the 25th
    {"opportunity_id": "F5", "stage": "lost", "probability": 0.0, "amount": 700.0,
     "created_at": datetime(2024, 1, 1), "expected_close_date": date(2024, 2, 20),
     "closed_at": datetime(2024, 2, 25)},
    # created on March 2nd: open, expected in March, but not in the pipeline March started with
    {"opportunity_id": "F6", "stage": "proposal", "amount": 400.0,
     "created_at": datetime(2024, 3, 2), "expected_close_date": date(2024, 3, 30)},
    # expected in May: a forecast, not yet a look-back
    {"opportunity_id": "F7", "stage": "meeting", "amount": 900.0,
     "created_at": datetime(2024, 2, 1), "expected_close_date": date(2024, 5, 2)},
]  # fmt: skip

HISTORY: list[tuple[str, str, datetime]] = [
    ("F2", "qualification", datetime(2024, 1, 5)),
    ("F2", "proposal", datetime(2024, 2, 10)),
    ("F2", "won", datetime(2024, 3, 15)),
    ("F5", "meeting", datetime(2024, 1, 1)),
    ("F5", "lost", datetime(2024, 2, 25)),
]


@pytest.fixture
def forecast(con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]) -> None:
    con.execute("delete from cfg_stage_probability where stage = 'negotiation'")
    insert(con, "raw_opportunities", OPPORTUNITIES)
    insert(
        con,
        "raw_stage_history",
        [{"opportunity_id": o, "stage": s, "entered_at": at} for o, s, at in HISTORY],
    )
    build()


@pytest.mark.usefixtures("forecast")
def test_pipeline_forecast_stage_defaults_and_a_stage_without_one(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = fetch(
        con,
        """
        select close_month, stage, open_count, open_amount, probability, weighted_amount,
               with_own_probability, with_stage_default, without_probability
        from pipeline_forecast order by close_month, stage
        """,
    )
    assert [tuple(r.values()) for r in rows] == [
        # the stage without a default: counted and summed, probability 0, weighted 0
        (date(2024, 3, 1), "negotiation", 1, 3000.0, 0.0, 0.0, 0, 0, 1),
        # F1 its own 0.5, F6 the proposal default 0.4
        (date(2024, 3, 1), "proposal", 2, 1400.0, pytest.approx(0.45), 660.0, 1, 1, 0),
        # meeting's default 0.2
        (date(2024, 5, 1), "meeting", 1, 900.0, 0.2, 180.0, 0, 1, 0),
    ]


@pytest.mark.usefixtures("forecast")
def test_forecast_lookback_against_the_months_won(con: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(con, "select * from forecast_lookback order by close_month")
    got = [
        (
            r["close_month"],
            r["open_count"],
            r["open_amount"],
            r["weighted_amount"],
            r["without_probability"],
            r["won_count"],
            r["won_amount"],
            r["won_from_pipeline_count"],
            r["won_from_pipeline_amount"],
            r["won_to_weighted_ratio"],
            r["is_complete"],
        )
        for r in rows
    ]
    assert got == [
        # from the first opportunity's month; nothing expected, nothing won
        (date(2024, 1, 1), 0, 0.0, 0.0, 0, 0, 0.0, 0, 0.0, None, True),
        # F5 in meeting on February 1st (0.2), lost: the month won nothing
        (date(2024, 2, 1), 1, 700.0, pytest.approx(140.0), 0, 0, 0.0, 0, 0.0, 0.0, True),
        # F1 1000 x 0.5 + F2 2000 x 0.4 (proposal then) + F3 3000 x 0 (no default);
        # won F2 (from the pipeline) and F4 (created in March)
        (date(2024, 3, 1), 3, 6000.0, pytest.approx(1300.0), 1, 2, 2500.0, 1, 2000.0,
         pytest.approx(2500 / 1300), True),
    ]  # fmt: skip
    assert all(r["forecast_day"] == r["close_month"] for r in rows)


def test_forecast_lookback_with_opportunities_only_after_the_as_of_month(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    # no opportunity at all: one row, the as-of month, empty and not complete mid-month
    con.execute("set variable as_of = date '2024-03-15'")
    build()
    rows = fetch(
        con, "select close_month, open_count, won_count, is_complete from forecast_lookback"
    )
    assert [tuple(r.values()) for r in rows] == [(date(2024, 3, 1), 0, 0, False)]
