"""pipeline_forecast's probabilities and forecast_lookback on a few opportunities (as-of
2024-03-31; the first tests' config has no default probability for negotiation), and
forecast_lookback judging each month with the values the pipeline's snapshots saw then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from funnel import snapshots
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
    # no snapshots: F2 and F5 take their stage then from their history, F1 and F3 today's values
    assert [
        (r["basis"], r["open_from_snapshot"], r["open_from_stage_history"], r["open_from_current"])
        for r in rows
    ] == [("current", 0, 0, 0), ("stage_history", 0, 1, 0), ("mixed", 0, 1, 2)]


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


# Nights the pipeline ran (funnel.snapshots.record_load), and the opportunities each night's
# export held. February's forecast is the state after the run of January 31st, March's after
# the run of February 29th.
NIGHTS: list[tuple[date, list[dict[str, Any]]]] = [
    (date(2024, 1, 31), [
        # S1: in proposal, 1000, expected in February
        {"opportunity_id": "S1", "stage": "proposal", "amount": 1000.0,
         "created_at": datetime(2024, 1, 10), "expected_close_date": date(2024, 2, 20)},
        # S2: an export row without dates: meeting, 500, expected in March
        {"opportunity_id": "S2", "stage": "meeting", "amount": 500.0,
         "expected_close_date": date(2024, 3, 5)},
    ]),
    (date(2024, 2, 15), [
        # S1 slips to March and grows to 1200
        {"opportunity_id": "S1", "stage": "proposal", "amount": 1200.0,
         "created_at": datetime(2024, 1, 10), "expected_close_date": date(2024, 3, 10)},
        {"opportunity_id": "S2", "stage": "meeting", "amount": 500.0,
         "expected_close_date": date(2024, 3, 5)},
    ]),
    (date(2024, 2, 29), [
        # S1 in negotiation at 1500 with its own probability 0.6
        {"opportunity_id": "S1", "stage": "negotiation", "amount": 1500.0, "probability": 0.6,
         "created_at": datetime(2024, 1, 10), "expected_close_date": date(2024, 3, 10)},
        {"opportunity_id": "S2", "stage": "meeting", "amount": 500.0,
         "expected_close_date": date(2024, 3, 5)},
        # S3: new, proposal, 2000 at 0.5, expected in March
        {"opportunity_id": "S3", "stage": "proposal", "amount": 2000.0, "probability": 0.5,
         "created_at": datetime(2024, 2, 20), "expected_close_date": date(2024, 3, 20)},
    ]),
    (date(2024, 3, 31), [
        # S1 won on the 12th at 1600; S2 lost (no close date); S3 slipped to April at 2500
        {"opportunity_id": "S1", "stage": "won", "amount": 1600.0, "probability": 1.0,
         "created_at": datetime(2024, 1, 10), "expected_close_date": date(2024, 3, 10),
         "closed_at": datetime(2024, 3, 12)},
        {"opportunity_id": "S2", "stage": "lost", "amount": 500.0,
         "expected_close_date": date(2024, 3, 5)},
        {"opportunity_id": "S3", "stage": "proposal", "amount": 2500.0, "probability": 0.5,
         "created_at": datetime(2024, 2, 20), "expected_close_date": date(2024, 4, 15)},
        # first seen tonight though created in January: nothing earlier than today's values
        {"opportunity_id": "C1", "stage": "proposal", "amount": 800.0,
         "created_at": datetime(2024, 1, 5), "expected_close_date": date(2024, 3, 25)},
        # first seen tonight, but its stage history says proposal at 400 since February 10th
        {"opportunity_id": "H1", "stage": "proposal", "amount": 450.0,
         "created_at": datetime(2024, 1, 2), "expected_close_date": date(2024, 3, 15)},
    ]),
]  # fmt: skip


def test_forecast_lookback_uses_each_months_first_day_values(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    for night, (day, rows) in enumerate(NIGHTS, start=1):
        con.execute("delete from raw_opportunities")
        insert(con, "raw_opportunities", rows)
        snapshots.record_load(con, f"night-{night}", day)
    insert(
        con,
        "raw_stage_history",
        [
            {"opportunity_id": "H1", "stage": "qualification", "amount": 300.0,
             "entered_at": datetime(2024, 1, 2)},
            {"opportunity_id": "H1", "stage": "proposal", "amount": 400.0,
             "entered_at": datetime(2024, 2, 10)},
        ],
    )  # fmt: skip
    build()

    rows = fetch(con, "select * from forecast_lookback order by close_month")
    got = {
        r["close_month"]: (
            r["open_count"],
            r["open_amount"],
            r["weighted_amount"],
            r["basis"],
            r["open_from_snapshot"],
            r["open_from_stage_history"],
            r["open_from_current"],
            r["won_count"],
            r["won_amount"],
            r["won_from_pipeline_count"],
            r["won_from_pipeline_amount"],
        )
        for r in rows
    }
    assert got == {
        # nothing expected; the snapshots began on January 31st, after this forecast day
        date(2024, 1, 1): (0, 0.0, 0.0, "current", 0, 0, 0, 0, 0.0, 0, 0.0),
        # as of February 1st: S1 in proposal at 1000, expected in February (it slipped later)
        date(2024, 2, 1): (1, 1000.0, pytest.approx(400.0), "snapshot", 1, 0, 0,
                           0, 0.0, 0, 0.0),
        # as of March 1st: S1 negotiation 1500 x its own 0.6 = 900; S2 meeting 500 x 0.2 = 100;
        # S3 proposal 2000 x 0.5 = 1000 (today it is expected in April at 2500); H1 from its
        # history, proposal at 400 x 0.4 = 160; C1 today's values, 800 x 0.4 = 320.
        # Won: S1 at 1600, from the pipeline.
        date(2024, 3, 1): (5, 5200.0, pytest.approx(2480.0), "mixed", 3, 1, 1,
                           1, 1600.0, 1, 1600.0),
    }  # fmt: skip
    assert rows[-1]["won_to_weighted_ratio"] == pytest.approx(1600 / 2480)

    # S2 had no close date: closed when the pipeline saw it lost, counted lost on March 31st
    assert fetch(
        con,
        "select opportunity_id, closed_at, closed_at_source from opportunities"
        " where not is_open order by 1",
    ) == [
        {"opportunity_id": "S1", "closed_at": datetime(2024, 3, 12), "closed_at_source": "source"},
        {"opportunity_id": "S2", "closed_at": datetime(2024, 3, 31),
         "closed_at_source": "snapshot"},
    ]  # fmt: skip
