"""qualification_outcomes, activity_outcomes and post_sale_handoffs on a small CRM (as-of
2024-03-31), and lead_qualification reading every [qualification] rule from the config."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from funnel import sqlmodels
from funnel.config import QualificationConfig
from funnel.warehouse import qualification_params
from tests.sql.conftest import create_inputs, fetch, insert

MARCH = datetime(2024, 3, 1)
HOT = {"budget": 20000.0, "authority": "Decision Maker", "need": "high",
       "timeline": date(2024, 4, 1)}  # fmt: skip

LEADS: list[dict[str, Any]] = [
    {"lead_id": "L1", "created_at": MARCH, **HOT},  # qualified, won
    {"lead_id": "L2", "created_at": MARCH, **HOT},  # qualified, lost
    # nurture (need + timeline = 50), still in the pipeline
    {"lead_id": "L3", "created_at": MARCH, "need": "high", "timeline": date(2024, 4, 1)},
    # nurture, never converted; its only activity is on the lead
    {"lead_id": "L4", "created_at": MARCH, "need": "high", "timeline": date(2024, 4, 1)},
    {"lead_id": "L5", "created_at": MARCH},  # disqualified by score, no activities
    {"lead_id": "L6", "created_at": MARCH, "stage": "lost"},  # disqualified: lost
]

OPPORTUNITIES: list[dict[str, Any]] = [
    {"opportunity_id": "O1", "lead_id": "L1", "stage": "post_sale", "amount": 5000.0,
     "created_at": datetime(2024, 3, 2), "closed_at": datetime(2024, 3, 10, 12)},
    {"opportunity_id": "O2", "lead_id": "L2", "stage": "lost", "amount": 1000.0,
     "created_at": datetime(2024, 3, 2), "closed_at": datetime(2024, 3, 15)},
    {"opportunity_id": "O3", "lead_id": "L3", "stage": "meeting", "amount": 800.0,
     "created_at": datetime(2024, 3, 5)},
    # stands alone, lost, not a single activity
    {"opportunity_id": "O4", "stage": "lost", "amount": 300.0,
     "created_at": datetime(2024, 3, 1), "closed_at": datetime(2024, 3, 20)},
    # in post_sale, but no history: when it was handed over is unknown
    {"opportunity_id": "O5", "stage": "post_sale", "amount": 700.0,
     "created_at": datetime(2024, 3, 1), "closed_at": datetime(2024, 3, 20)},
    # won, not handed over yet
    {"opportunity_id": "O6", "stage": "won", "amount": 900.0,
     "created_at": datetime(2024, 3, 1), "closed_at": datetime(2024, 3, 25)},
]  # fmt: skip

HISTORY: list[tuple[str, str, datetime]] = [
    ("O1", "proposal", datetime(2024, 3, 2)),
    ("O1", "won", datetime(2024, 3, 10, 12)),
    ("O1", "post_sale", datetime(2024, 3, 12, 12)),
]

ACTIVITIES: list[tuple[str, str | None, str | None, str | None]] = [
    ("A1", "O1", None, "call"),
    ("A2", "O1", None, "call"),
    ("A3", "O1", None, "email"),
    ("A4", "O2", None, "call"),
    ("A5", "O2", None, None),
    ("A6", "O3", None, "meeting"),  # open: not counted
    ("A7", None, "L4", "email"),  # on a lead only: not an opportunity's touch
]


@pytest.fixture
def crm(con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]) -> None:
    insert(con, "raw_leads", LEADS)
    insert(con, "raw_opportunities", OPPORTUNITIES)
    insert(
        con,
        "raw_stage_history",
        [{"opportunity_id": o, "stage": s, "entered_at": at} for o, s, at in HISTORY],
    )
    insert(
        con,
        "raw_activities",
        [
            {"activity_id": a, "opportunity_id": o, "lead_id": lead, "type": t,
             "occurred_at": datetime(2024, 3, 5)}
            for a, o, lead, t in ACTIVITIES
        ],
    )  # fmt: skip
    build()


def rows_of(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in fetch(con, sql)]


@pytest.mark.usefixtures("crm")
def test_qualification_outcomes_per_status(con: duckdb.DuckDBPyConnection) -> None:
    assert rows_of(con, "select * from qualification_outcomes") == [
        # status, leads, share_of_leads, avg_score, converted, won, in_pipeline, won_amount,
        # converted_share, won_share, won_share_of_converted, won_share_lift (won share 1/6),
        # currency (the deals name none)
        ("qualified", 2, pytest.approx(1 / 3), 100.0, 2, 1, 0, 5000.0, 1.0, 0.5, 0.5,
         pytest.approx(3.0), None),
        ("nurture", 2, pytest.approx(1 / 3), 50.0, 1, 0, 1, 0.0, 0.5, 0.0, 0.0, 0.0, None),
        ("disqualified", 2, pytest.approx(1 / 3), 0.0, 0, 0, 0, 0.0, 0.0, 0.0, None, 0.0,
         None),
    ]  # fmt: skip


@pytest.mark.usefixtures("crm")
def test_activity_outcomes_count_opportunities_without_activities(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert rows_of(con, "select * from activity_outcomes") == [
        # outcome, type, opportunities, with_activity, activities, avg, median
        # won: O1 (post_sale counts as won), O5 and O6 without any activity
        ("won", "(all)", 3, 1, 3, 1.0, 0.0),
        ("won", "(none)", 3, 0, 0, 0.0, 0.0),
        ("won", "call", 3, 1, 2, pytest.approx(2 / 3), 0.0),
        ("won", "email", 3, 1, 1, pytest.approx(1 / 3), 0.0),
        # lost: O2 (a call and an untyped activity), O4 with none
        ("lost", "(all)", 2, 1, 2, 1.0, 1.0),
        ("lost", "(none)", 2, 1, 1, 0.5, 0.5),
        ("lost", "call", 2, 1, 1, 0.5, 0.5),
        ("lost", "email", 2, 0, 0, 0.0, 0.0),
    ]
    # the lead-only activity is the lead's; a lead with no activities has 0
    assert rows_of(
        con, "select lead_id, activity_count from leads where lead_id in ('L4', 'L5') order by 1"
    ) == [("L4", 1), ("L5", 0)]


@pytest.mark.usefixtures("crm")
def test_post_sale_handoffs(con: duckdb.DuckDBPyConnection) -> None:
    assert rows_of(
        con,
        """select opportunity_id, record_id, stage, is_in_post_sale, won_at, post_sale_at,
                  has_post_sale, days_won_to_post_sale
           from post_sale_handoffs""",
    ) == [
        ("O1", "L1", "post_sale", True, datetime(2024, 3, 10, 12), datetime(2024, 3, 12, 12),
         True, 2.0),
        # the current stage is post_sale, but no record says when it moved there
        ("O5", "O5", "post_sale", True, datetime(2024, 3, 20), None, False, None),
        ("O6", "O6", "won", False, datetime(2024, 3, 25), None, False, None),
    ]  # fmt: skip


def test_every_qualification_rule_comes_from_the_config() -> None:
    """Each [qualification] key reaches stg_qualification_rules, and changing it changes the
    verdict (budget threshold, roles, signals, horizon, weights, both thresholds)."""
    rules = QualificationConfig(
        budget_min=500,
        authority_roles=["Head of IT"],
        need_signals=["urgent"],
        timeline_horizon_days=10,
        weight_budget=40,
        weight_authority=30,
        weight_need=20,
        weight_timeline=10,
        qualified_min_score=70,
        nurture_min_score=30,
    )
    con = duckdb.connect()
    create_inputs(con, qualification=qualification_params(rules))
    created = datetime(2024, 3, 1)
    insert(
        con,
        "raw_leads",
        [
            # budget 40 + authority 30 = 70: qualified at this config's minimum
            {"lead_id": "A", "created_at": created, "budget": 500.0, "authority": "head_of_it"},
            # need 20 + timeline 10 (created day + 10) = 30: nurture at its minimum
            {"lead_id": "B", "created_at": created, "need": "Urgent",
             "timeline": date(2024, 3, 11)},
            # budget just under, a default role and signal, timeline a day past: 0
            {"lead_id": "C", "created_at": created, "budget": 499.0,
             "authority": "decision_maker", "need": "high", "timeline": date(2024, 3, 12)},
            # budget 40 alone: 40, nurture
            {"lead_id": "D", "created_at": created, "budget": 10000.0},
        ],
    )  # fmt: skip
    sqlmodels.run_models(con)
    columns = {d[0] for d in con.execute("select * from stg_qualification_rules").description}
    assert columns == set(QualificationConfig.model_fields)
    (row,) = fetch(con, "select * from stg_qualification_rules")
    assert all(v is not None for v in row.values())
    assert rows_of(
        con, "select lead_id, score, status, criteria_met from lead_qualification order by 1"
    ) == [
        ("A", 70.0, "qualified", ["budget", "authority"]),
        ("B", 30.0, "nurture", ["need", "timeline"]),
        ("C", 0.0, "disqualified", []),
        ("D", 40.0, "nurture", ["budget"]),
    ]


@pytest.mark.usefixtures("crm")
@pytest.mark.parametrize(
    "table",
    [
        "stage_durations",
        "stage_bottlenecks_weekly",
        "qualification_outcomes",
        "forecast_lookback",
        "activity_outcomes",
        "post_sale_handoffs",
    ],
)
def test_grain_audits_catch_a_duplicated_row(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"insert into {table} select * from {table} limit 1")
    failed = {name for name, n in sqlmodels.run_audits(con).items() if n}
    assert failed == {f"{table}__unique_grain"}
