"""funnel_metrics_daily and owner_metrics_daily on a handful of opportunities (as-of 2024-03-31).

Windows ending 2024-03-31: 30d starts 2024-03-02, 90d starts 2024-01-02, 365d starts 2023-04-02.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from tests.sql.conftest import fetch, insert

AS_OF = date(2024, 3, 31)

CLOSED: list[dict[str, Any]] = [
    # won on the as-of day: cycle 30 days
    {"opportunity_id": "O1", "stage": "won", "owner": "Ann", "amount": 1000.0,
     "created_at": datetime(2024, 3, 1, 10), "closed_at": datetime(2024, 3, 31, 9)},
    # won on the first day of the 30d window: cycle 30 days (2024 is a leap year)
    {"opportunity_id": "O2", "stage": "won", "owner": "Ann", "amount": 3000.0,
     "created_at": datetime(2024, 2, 1), "closed_at": datetime(2024, 3, 2, 17)},
    # lost the day before the 30d window
    {"opportunity_id": "O3", "stage": "lost", "owner": "Bob", "amount": 500.0,
     "created_at": datetime(2024, 1, 15), "closed_at": datetime(2024, 3, 1)},
    # post_sale = won, on the first day of the 365d window, no owner: cycle 32 days
    {"opportunity_id": "O4", "stage": "post_sale", "owner": None, "amount": 2000.0,
     "created_at": datetime(2023, 3, 1), "closed_at": datetime(2023, 4, 2)},
    # won the day before the 365d window, no amount: cycle 90 days
    {"opportunity_id": "O5", "stage": "won", "owner": "Bob", "amount": None,
     "created_at": datetime(2023, 1, 1), "closed_at": datetime(2023, 4, 1)},
    # lost, created date unknown
    {"opportunity_id": "O6", "stage": "lost", "owner": "Bob", "amount": 100.0,
     "created_at": None, "closed_at": datetime(2023, 6, 1)},
]  # fmt: skip

OPEN: list[dict[str, Any]] = [
    {"opportunity_id": "O7", "stage": "proposal", "owner": "Ann", "amount": 10000.0,
     "probability": 0.5, "created_at": datetime(2024, 3, 10)},
    # negotiation has no default probability in this test's config: weighted as 0
    {"opportunity_id": "O8", "stage": "negotiation", "owner": "Cid", "amount": 20000.0,
     "created_at": datetime(2024, 3, 20)},
    # meeting default 0.2; unknown created date: open only on the as-of day
    {"opportunity_id": "O9", "stage": "meeting", "owner": None, "amount": 1000.0},
]  # fmt: skip

# O1 was in proposal (default 0.4) while open: the past weighted pipeline values it so
HISTORY: list[dict[str, Any]] = [
    {"opportunity_id": "O1", "stage": "proposal", "entered_at": datetime(2024, 3, 5)},
    {"opportunity_id": "O1", "stage": "won", "entered_at": datetime(2024, 3, 31, 9)},
]


@pytest.fixture
def metrics(con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]) -> None:
    con.execute("delete from cfg_stage_probability where stage = 'negotiation'")
    insert(con, "raw_opportunities", CLOSED + OPEN)
    insert(con, "raw_stage_history", HISTORY)
    build()


def day_rows(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, dict[str, Any]]:
    rows = fetch(con, "select * from funnel_metrics_daily where day = ?", [day])
    return {r.pop("trailing_window"): r for r in rows}


@pytest.mark.usefixtures("metrics")
def test_won_lost_and_win_rate_per_window(con: duckdb.DuckDBPyConnection) -> None:
    rows = day_rows(con, AS_OF)
    got = {w: (r["won"], r["lost"], r["win_rate"], r["won_amount"]) for w, r in rows.items()}
    assert got == {
        "30d": (2, 0, 1.0, 4000.0),
        "90d": (2, 1, pytest.approx(2 / 3), 4000.0),
        "365d": (3, 2, 0.6, 6000.0),
        "all": (4, 2, pytest.approx(4 / 6), 6000.0),
    }
    before = day_rows(con, date(2024, 3, 30))["30d"]
    assert (before["won"], before["lost"], before["win_rate"]) == (1, 1, 0.5)
    first_day = day_rows(con, date(2023, 1, 1))["all"]
    assert (first_day["won"], first_day["lost"], first_day["win_rate"]) == (0, 0, None)


@pytest.mark.usefixtures("metrics")
def test_deal_size_and_cycle_days(con: duckdb.DuckDBPyConnection) -> None:
    rows = day_rows(con, AS_OF)
    got = {
        w: (r["avg_deal_size"], r["avg_cycle_days"], r["median_cycle_days"])
        for w, r in rows.items()
    }
    assert got == {
        "30d": (2000.0, 30.0, 30.0),
        "90d": (2000.0, 30.0, 30.0),
        "365d": (2000.0, pytest.approx(92 / 3), 30.0),
        # O5 has no amount (deal size over the 3 known) but a cycle (median of 30, 30, 32, 90)
        "all": (2000.0, 45.5, 31.0),
    }


@pytest.mark.usefixtures("metrics")
def test_open_and_weighted_pipeline_per_day(con: duckdb.DuckDBPyConnection) -> None:
    def pipeline(day: date) -> set[tuple[int, float, float]]:
        return {
            (r["open_count"], r["open_amount"], r["weighted_pipeline"])
            for r in day_rows(con, day).values()
        }

    # as-of: O7 5000 + O8 0 (no default for negotiation) + O9 1000 x 0.2
    assert pipeline(AS_OF) == {(3, 31000.0, 5200.0)}
    # the day before: O1 still open (valued at proposal's 0.4), O7, O8; O9 has no created date
    assert pipeline(date(2024, 3, 30)) == {(3, 31000.0, 5400.0)}
    # O1 and O7 open; O2 closed on 03-02, O8 not yet created
    assert pipeline(date(2024, 3, 15)) == {(2, 11000.0, 5400.0)}
    # O4 (created 2023-03-01) and O5 (2023-01-01) open, valued at 0: closed, no history
    assert pipeline(date(2023, 3, 15)) == {(2, 2000.0, 0.0)}


@pytest.mark.usefixtures("metrics")
def test_sales_velocity(con: duckdb.DuckDBPyConnection) -> None:
    rows = day_rows(con, AS_OF)
    assert rows["all"]["sales_velocity"] == pytest.approx(3 * (4 / 6) * 2000.0 / 45.5)
    assert rows["30d"]["sales_velocity"] == pytest.approx(3 * 1.0 * 2000.0 / 30.0)
    assert day_rows(con, date(2023, 1, 1))["all"]["sales_velocity"] is None


@pytest.mark.usefixtures("metrics")
def test_spine_runs_from_the_first_date_to_the_as_of_day(con: duckdb.DuckDBPyConnection) -> None:
    first, last, days, rows = (
        con.execute(
            "select min(day), max(day), count(distinct day), count(*) from funnel_metrics_daily"
        ).fetchone()
        or ()
    )
    assert (first, last) == (date(2023, 1, 1), AS_OF)
    assert days == (AS_OF - date(2023, 1, 1)).days + 1
    assert rows == 4 * days


@pytest.mark.usefixtures("metrics")
def test_owner_metrics(con: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(
        con,
        """
        select owner, won, lost, win_rate, won_amount, avg_deal_size, median_cycle_days,
               open_count, weighted_pipeline
        from owner_metrics_daily where day = ? and trailing_window = 'all' order by owner
        """,
        [AS_OF],
    )
    assert [tuple(r.values()) for r in rows] == [
        ("(none)", 1, 0, 1.0, 2000.0, 2000.0, 32.0, 1, 200.0),
        ("Ann", 2, 0, 1.0, 4000.0, 2000.0, 30.0, 1, 5000.0),
        ("Bob", 1, 2, pytest.approx(1 / 3), 0.0, None, 90.0, 0, 0.0),
        ("Cid", 0, 0, None, 0.0, None, None, 1, 0.0),
    ]
    thirty = fetch(
        con,
        "select owner, won from owner_metrics_daily where day = ? and trailing_window = '30d'",
        [AS_OF],
    )
    assert {r["owner"]: r["won"] for r in thirty} == {"(none)": 0, "Ann": 2, "Bob": 0, "Cid": 0}


def test_a_close_without_a_date_counts_only_in_all_on_the_as_of_day(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    insert(
        con,
        "raw_opportunities",
        [
            {"opportunity_id": "U1", "stage": "won", "amount": 700.0,
             "created_at": datetime(2024, 1, 1)},
            {"opportunity_id": "U2", "stage": "lost", "created_at": datetime(2024, 2, 1)},
        ],
    )  # fmt: skip
    build()
    as_of = day_rows(con, AS_OF)
    assert {w: (r["won"], r["lost"], r["won_amount"]) for w, r in as_of.items()} == {
        "30d": (0, 0, 0.0),
        "90d": (0, 0, 0.0),
        "365d": (0, 0, 0.0),
        "all": (1, 1, 700.0),
    }
    assert as_of["all"]["avg_deal_size"] == 700.0
    assert as_of["all"]["median_cycle_days"] is None
    assert day_rows(con, date(2024, 3, 30))["all"]["won"] == 0
    # closed at an unknown moment: never counted open
    assert con.execute("select max(open_count) from funnel_metrics_daily").fetchone() == (0,)


@pytest.mark.usefixtures("metrics")
def test_the_window_column_is_filtered_without_quoting(con: duckdb.DuckDBPyConnection) -> None:
    """`window` is a reserved word in DuckDB; `trailing_window` is a plain identifier."""
    for table in ("funnel_metrics_daily", "owner_metrics_daily"):
        (n,) = con.execute(
            f"select count(distinct day) from {table} where trailing_window = '30d'"
        ).fetchone() or (0,)
        assert n == (AS_OF - date(2023, 1, 1)).days + 1, table
    columns = {r[0] for r in con.execute("select column_name from duckdb_columns()").fetchall()}
    assert "window" not in columns
