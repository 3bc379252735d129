"""Forecast categories: the source's own category in any CRM spelling, else the stage's from
[forecast.stage_category]; closed deals are closed or omitted whatever the source says; and
pipeline_forecast per category (as of 2024-03-31)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb

from tests.sql.conftest import fetch, insert

MARCH = date(2024, 3, 20)


def test_categories_from_the_source_else_the_stage(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    con.execute(
        "update cfg_stage_category set forecast_category = 'commit' where stage = 'meeting'"
    )
    insert(con, "raw_opportunities", [
        {"opportunity_id": "C1", "stage": "proposal", "amount": 100.0,
         "expected_close_date": MARCH, "forecast_category": "Best Case"},  # Salesforce label
        {"opportunity_id": "C2", "stage": "proposal", "amount": 200.0,
         "expected_close_date": MARCH, "forecast_category": "COMMIT"},  # HubSpot value
        {"opportunity_id": "C3", "stage": "proposal", "amount": 300.0,
         "expected_close_date": MARCH, "forecast_category": "OMIT"},
        {"opportunity_id": "C4", "stage": "proposal", "amount": 400.0,
         "expected_close_date": MARCH},  # none: the stage's default, best_case
        {"opportunity_id": "C5", "stage": "meeting", "amount": 500.0,
         "expected_close_date": MARCH},  # the configured stage category
        {"opportunity_id": "C6", "stage": "negotiation", "amount": 600.0,
         "expected_close_date": MARCH, "forecast_category": "someday"},  # unknown: the stage's
        {"opportunity_id": "C7", "stage": "won", "amount": 700.0,
         "forecast_category": "Pipeline"},  # won: closed whatever the label says
        {"opportunity_id": "C8", "stage": "lost", "amount": 800.0,
         "forecast_category": "Commit"},
    ])  # fmt: skip
    build()
    got = fetch(
        con,
        "select opportunity_id, forecast_category, forecast_category_source from opportunities"
        " order by opportunity_id",
    )
    assert [(r["opportunity_id"], r["forecast_category"], r["forecast_category_source"])
            for r in got] == [
        ("C1", "best_case", "source"),
        ("C2", "commit", "source"),
        ("C3", "omitted", "source"),
        ("C4", "best_case", "stage"),
        ("C5", "commit", "stage"),
        ("C6", "commit", "stage"),
        ("C7", "closed", "stage"),
        ("C8", "omitted", "stage"),
    ]  # fmt: skip
    forecast = fetch(
        con,
        "select stage, forecast_category, open_count, open_amount from pipeline_forecast"
        " order by stage, forecast_category",
    )
    assert [tuple(r.values()) for r in forecast] == [
        ("meeting", "commit", 1, 500.0),
        ("negotiation", "commit", 1, 600.0),
        ("proposal", "best_case", 2, 500.0),
        ("proposal", "commit", 1, 200.0),
        ("proposal", "omitted", 1, 300.0),
    ]
