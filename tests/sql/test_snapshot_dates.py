"""Dates the pipeline's own snapshots give an export without them (as-of 2024-03-31): a close
seen between two nights is dated by the record's updated_at in between, a deal first seen already
won gets no close date and no win moment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb

from funnel import snapshots
from tests.sql.conftest import fetch, insert

NIGHTS: list[tuple[date, list[dict[str, Any]]]] = [
    (date(2024, 3, 29), [
        {"opportunity_id": "W1", "stage": "won", "amount": 900.0},
        {"opportunity_id": "P1", "stage": "proposal", "amount": 400.0},
    ]),
    (date(2024, 3, 30), [
        # W1 handed to post-sale; P1 won, its last edit at 10:00 that day
        {"opportunity_id": "W1", "stage": "post_sale", "amount": 900.0},
        {"opportunity_id": "P1", "stage": "won", "amount": 400.0,
         "updated_at": datetime(2024, 3, 30, 10)},
    ]),
    (date(2024, 3, 31), [
        {"opportunity_id": "W1", "stage": "post_sale", "amount": 900.0},
        {"opportunity_id": "P1", "stage": "won", "amount": 400.0,
         "updated_at": datetime(2024, 3, 30, 10)},
    ]),
]  # fmt: skip


def test_closes_and_first_seen_entries_from_the_snapshots(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    for night, (day, rows) in enumerate(NIGHTS, start=1):
        con.execute("delete from raw_opportunities")
        insert(con, "raw_opportunities", rows)
        snapshots.record_load(con, f"night-{night}", day)
    build()

    assert fetch(
        con,
        "select record_id, stage, entered_at, entry_source from stage_transitions"
        " order by record_id, entered_at",
    ) == [
        {"record_id": "P1", "stage": "proposal", "entered_at": datetime(2024, 3, 29),
         "entry_source": "first_seen"},
        {"record_id": "P1", "stage": "won", "entered_at": datetime(2024, 3, 30, 10),
         "entry_source": "snapshot"},
        {"record_id": "W1", "stage": "won", "entered_at": datetime(2024, 3, 29),
         "entry_source": "first_seen"},
        {"record_id": "W1", "stage": "post_sale", "entered_at": datetime(2024, 3, 30),
         "entry_source": "snapshot"},
    ]  # fmt: skip
    # P1's close is the moment of its entry into won; W1 closed before the pipeline saw it
    assert fetch(
        con, "select opportunity_id, closed_at, closed_at_source from opportunities order by 1"
    ) == [
        {"opportunity_id": "P1", "closed_at": datetime(2024, 3, 30, 10),
         "closed_at_source": "snapshot"},
        {"opportunity_id": "W1", "closed_at": None, "closed_at_source": None},
    ]  # fmt: skip
    # won in the 30-day window from March 30th: P1 only; the undated W1 only in 'all' of the day
    assert fetch(
        con,
        "select day, trailing_window, won from funnel_metrics_daily"
        " where trailing_window in ('30d', 'all') and day >= '2024-03-29'"
        " order by day, trailing_window",
    ) == [
        {"day": date(2024, 3, 29), "trailing_window": "30d", "won": 0},
        {"day": date(2024, 3, 29), "trailing_window": "all", "won": 0},
        {"day": date(2024, 3, 30), "trailing_window": "30d", "won": 1},
        {"day": date(2024, 3, 30), "trailing_window": "all", "won": 1},
        {"day": date(2024, 3, 31), "trailing_window": "30d", "won": 1},
        {"day": date(2024, 3, 31), "trailing_window": "all", "won": 2},
    ]
    # a first-seen won entry is not a win moment: no handoff time can be measured from it
    assert fetch(
        con,
        "select opportunity_id, won_at, post_sale_at, is_in_post_sale from post_sale_handoffs"
        " order by 1",
    ) == [
        {"opportunity_id": "P1", "won_at": datetime(2024, 3, 30, 10), "post_sale_at": None,
         "is_in_post_sale": False},
        {"opportunity_id": "W1", "won_at": None, "post_sale_at": None, "is_in_post_sale": True},
    ]  # fmt: skip
