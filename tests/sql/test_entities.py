"""lead_qualification, leads, opportunities, source_metrics_daily, pipeline_forecast and the run
log marts, on a few rows each (as-of 2024-03-31, the default config)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from funnel import sqlmodels
from tests.sql.conftest import QUALIFICATION, create_inputs, fetch, insert

AS_OF = date(2024, 3, 31)


def rows_of(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in fetch(con, sql)]


def test_lead_qualification_scores_and_rules(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    insert(
        con,
        "raw_leads",
        [
            # all four criteria (authority spelled as in the file; the match ignores case)
            {"lead_id": "Q1", "created_at": datetime(2024, 3, 1), "budget": 20000.0,
             "authority": "Decision Maker", "need": "high", "timeline": date(2024, 5, 1)},
            # need + timeline (the horizon's last day: created day + 90) = 50
            {"lead_id": "Q2", "created_at": datetime(2024, 3, 1), "budget": 5000.0,
             "authority": "influencer", "need": "Medium", "timeline": date(2024, 5, 30)},
            # nothing known or met (the timeline one day past the horizon; within 90 days of
            # the as-of day, which does not count)
            {"lead_id": "Q3", "created_at": datetime(2024, 3, 1), "need": "low",
             "timeline": date(2024, 5, 31)},
            # everything met, but the lead is lost
            {"lead_id": "Q4", "created_at": datetime(2024, 3, 1), "stage": "lost",
             "budget": 50000.0, "authority": "executive", "need": "high",
             "timeline": date(2024, 4, 1)},
            # budget on the minimum + authority + need = 75, the qualified minimum
            {"lead_id": "Q5", "created_at": datetime(2024, 3, 1), "budget": 10000.0,
             "authority": "ECONOMIC_BUYER", "need": "medium", "timeline": date(2025, 1, 1)},
        ],
    )  # fmt: skip
    build()
    assert rows_of(
        con,
        "select lead_id, score, status, rule, criteria_met from lead_qualification"
        " order by lead_id",
    ) == [
        ("Q1", 100.0, "qualified", "score>=qualified_min_score",
         ["budget", "authority", "need", "timeline"]),
        ("Q2", 50.0, "nurture", "score>=nurture_min_score", ["need", "timeline"]),
        ("Q3", 0.0, "disqualified", "score<nurture_min_score", []),
        ("Q4", 100.0, "disqualified", "stage_lost", ["budget", "authority", "need", "timeline"]),
        ("Q5", 75.0, "qualified", "score>=qualified_min_score", ["budget", "authority", "need"]),
    ]  # fmt: skip


def test_lead_qualification_reads_its_rule_from_cfg_qualification() -> None:
    con = duckdb.connect()
    create_inputs(
        con,
        as_of=AS_OF,
        qualification={
            **QUALIFICATION,
            "authority_roles": " CEO , VP Sales,",
            "weight_budget": "60",
            "weight_authority": "15",
            "qualified_min_score": "60",
            "nurture_min_score": "15",
        },
    )
    insert(
        con,
        "raw_leads",
        [
            {"lead_id": "A", "created_at": datetime(2024, 3, 1), "authority": "vp_sales"},
            {"lead_id": "B", "created_at": datetime(2024, 3, 1), "budget": 12000.0},
            {"lead_id": "C", "created_at": datetime(2024, 3, 1), "authority": "ceo"},
        ],
    )
    sqlmodels.run_models(con)
    assert rows_of(con, "select lead_id, score, status from lead_qualification order by 1") == [
        ("A", 15.0, "nurture"),
        ("B", 60.0, "qualified"),
        ("C", 15.0, "nurture"),
    ]


@pytest.fixture
def crm(con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]) -> None:
    insert(
        con,
        "raw_leads",
        [
            {"lead_id": "L1", "created_at": datetime(2024, 3, 30), "source": "web",
             "stage": "qualification", "budget": 50000.0, "authority": "executive",
             "need": "high", "timeline": date(2024, 4, 15)},
            {"lead_id": "L2", "created_at": datetime(2024, 1, 15), "source": "web",
             "converted_at": datetime(2024, 1, 20)},
            {"lead_id": "L3", "created_at": datetime(2024, 3, 31), "source": "referral"},
            {"lead_id": "L4", "created_at": datetime(2023, 6, 1), "stage": "lost"},
        ],
    )  # fmt: skip
    insert(
        con,
        "raw_opportunities",
        [
            {"opportunity_id": "OA", "lead_id": "L1", "stage": "lost", "amount": 100.0,
             "created_at": datetime(2024, 3, 30, 9), "closed_at": datetime(2024, 3, 30, 18)},
            {"opportunity_id": "OB", "lead_id": "L1", "stage": "proposal", "amount": 300.0,
             "probability": 0.3, "created_at": datetime(2024, 3, 30, 12),
             "expected_close_date": date(2024, 4, 15)},
            # lead_id names no loaded lead: the opportunity stands alone
            {"opportunity_id": "OC", "lead_id": "LX", "stage": "post_sale", "amount": 900.0,
             "created_at": datetime(2024, 1, 1), "closed_at": datetime(2024, 2, 15)},
            {"opportunity_id": "OD", "stage": "proposal", "amount": 200.0,
             "created_at": datetime(2024, 2, 1), "expected_close_date": date(2024, 4, 30)},
            {"opportunity_id": "OE", "stage": "negotiation", "amount": 1000.0,
             "created_at": datetime(2024, 2, 1)},
            {"opportunity_id": "OF", "stage": "meeting", "amount": 50.0, "probability": 0.1,
             "created_at": datetime(2024, 1, 1), "expected_close_date": date(2024, 2, 10)},
        ],
    )  # fmt: skip
    insert(
        con,
        "raw_activities",
        [
            {"activity_id": "A1", "lead_id": "L1", "occurred_at": datetime(2024, 3, 30)},
            {"activity_id": "A2", "lead_id": "L1", "occurred_at": datetime(2024, 3, 31)},
            {"activity_id": "A3", "opportunity_id": "OB", "occurred_at": datetime(2024, 3, 31)},
        ],
    )
    build()


@pytest.mark.usefixtures("crm")
def test_leads_mart(con: duckdb.DuckDBPyConnection) -> None:
    assert rows_of(
        con,
        """
        select lead_id, stage, funnel_stage, qualification_status, opportunity_id,
               opportunity_stage, opportunity_count, is_converted, is_won, activity_count,
               source_system
        from leads order by lead_id
        """,
    ) == [
        ("L1", "qualification", "proposal", "qualified", "OB", "proposal", 2, True, False, 2,
         "test"),
        ("L2", "prospecting", "prospecting", "disqualified", None, None, 0, True, False, 0,
         "test"),
        ("L3", "prospecting", "prospecting", "disqualified", None, None, 0, False, False, 0,
         "test"),
        ("L4", "lost", "lost", "disqualified", None, None, 0, False, False, 0, "test"),
    ]  # fmt: skip


@pytest.mark.usefixtures("crm")
def test_opportunities_mart(con: duckdb.DuckDBPyConnection) -> None:
    assert rows_of(
        con,
        """
        select opportunity_id, has_loaded_lead, record_id, is_record_current, is_open, is_won,
               is_lost,
               cycle_days, probability, effective_probability, activity_count
        from opportunities order by opportunity_id
        """,
    ) == [
        ("OA", True, "L1", False, False, False, True, 0, None, 0.0, 0),
        ("OB", True, "L1", True, True, False, False, None, 0.3, 0.3, 1),
        ("OC", False, "OC", True, False, True, False, 45, None, 1.0, 0),
        ("OD", False, "OD", True, True, False, False, None, None, 0.4, 0),
        ("OE", False, "OE", True, True, False, False, None, None, 0.6, 0),
        ("OF", False, "OF", True, True, False, False, None, 0.1, 0.1, 0),
    ]


@pytest.mark.usefixtures("crm")
def test_source_metrics_daily(con: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(
        con,
        """
        select trailing_window, source, leads, qualified, converted, won, lead_to_win_rate
        from source_metrics_daily where day = ? order by trailing_window, source
        """,
        [AS_OF],
    )
    got = {(r.pop("trailing_window"), r.pop("source")): tuple(r.values()) for r in rows}
    assert got == {
        ("30d", "(none)"): (0, 0, 0, 0, None),
        ("30d", "referral"): (1, 0, 0, 0, 0.0),
        ("30d", "web"): (1, 1, 1, 0, 0.0),
        ("90d", "(none)"): (0, 0, 0, 0, None),
        ("90d", "referral"): (1, 0, 0, 0, 0.0),
        ("90d", "web"): (2, 1, 2, 0, 0.0),
        ("365d", "(none)"): (1, 0, 0, 0, 0.0),
        ("365d", "referral"): (1, 0, 0, 0, 0.0),
        ("365d", "web"): (2, 1, 2, 0, 0.0),
        ("all", "(none)"): (1, 0, 0, 0, 0.0),
        ("all", "referral"): (1, 0, 0, 0, 0.0),
        ("all", "web"): (2, 1, 2, 0, 0.0),
    }


def test_source_metrics_count_leads_with_a_won_opportunity(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    insert(
        con,
        "raw_leads",
        [
            {"lead_id": "W1", "created_at": datetime(2024, 3, 1), "source": "event"},
            {"lead_id": "W2", "created_at": datetime(2024, 3, 2), "source": "event"},
        ],
    )
    insert(
        con,
        "raw_opportunities",
        [
            {"opportunity_id": "X", "lead_id": "W1", "stage": "post_sale",
             "created_at": datetime(2024, 3, 3), "closed_at": datetime(2024, 3, 20)},
        ],
    )  # fmt: skip
    build()
    assert rows_of(
        con,
        """select leads, converted, won, lead_to_win_rate from source_metrics_daily
           where day = date '2024-03-31' and trailing_window = 'all'""",
    ) == [(2, 1, 1, 0.5)]


@pytest.mark.usefixtures("crm")
def test_pipeline_forecast(con: duckdb.DuckDBPyConnection) -> None:
    assert rows_of(
        con,
        """
        select day, close_month, stage, open_count, open_amount, probability, weighted_amount,
               is_overdue
        from pipeline_forecast order by close_month nulls last, stage
        """,
    ) == [
        (AS_OF, date(2024, 2, 1), "meeting", 1, 50.0, 0.1, 5.0, True),
        # OB 300 x 0.3 + OD 200 x 0.4 (the proposal default)
        (AS_OF, date(2024, 4, 1), "proposal", 2, 500.0, pytest.approx(0.35), 170.0, False),
        (AS_OF, None, "negotiation", 1, 1000.0, 0.6, 600.0, None),
    ]


def test_dq_results_quarantine_and_pipeline_runs(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    t = datetime(2024, 3, 31, 2)
    insert(
        con,
        "log_pipeline_runs",
        [
            {"run_id": "r1", "as_of": date(2024, 3, 30), "started_at": t,
             "ended_at": datetime(2024, 3, 31, 2, 1, 30), "status": "published",
             "exit_code": 0},
            {"run_id": "r2", "as_of": AS_OF, "started_at": datetime(2024, 3, 31, 3),
             "status": "running"},
        ],
    )  # fmt: skip
    insert(
        con,
        "log_run_sources",
        [
            {"run_id": "r1", "source": "deals", "entity": "opportunities", "rows_read": 10,
             "rows_loaded": 8, "rows_quarantined": 2, "rows_warned": 1, "mode": "incremental",
             "encoding": "windows-1252 (detected)"},
            {"run_id": "r1", "source": "crm_leads", "entity": "leads", "rows_read": 5,
             "rows_loaded": 5, "rows_quarantined": 0, "rows_warned": 0},
        ],
    )  # fmt: skip
    insert(
        con,
        "log_dq_results",
        [
            {"run_id": "r1", "source": "deals", "entity": "opportunities",
             "check": "opportunity_id_present", "column_name": "opportunity_id",
             "severity": "error", "rows_checked": 10, "rows_failed": 2, "passed": False,
             "checked_at": t},
        ],
    )  # fmt: skip
    insert(
        con,
        "log_dq_quarantine",
        [
            {"run_id": "r1", "source": "deals", "entity": "opportunities",
             "source_file": "deals.csv", "source_line": line,
             "reasons": "opportunity_id is blank", "checks": ["opportunity_id_present"],
             "original_row": '{"Deal ID": ""}', "quarantined_at": t}
            for line in (3, 7)
        ],
    )  # fmt: skip
    build()
    assert rows_of(
        con,
        """select run_id, as_of, duration_seconds, status, rows_read, rows_loaded,
                  rows_quarantined, rows_warned, sources
           from pipeline_runs order by run_id""",
    ) == [
        ("r1", date(2024, 3, 30), 90.0, "published", 15, 13, 2, 1, [
            {"source": "crm_leads", "entity": "leads", "rows_read": 5, "rows_loaded": 5,
             "rows_quarantined": 0, "rows_warned": 0, "mode": "full",  # none logged: full
             "encoding": None},
            {"source": "deals", "entity": "opportunities", "rows_read": 10, "rows_loaded": 8,
             "rows_quarantined": 2, "rows_warned": 1, "mode": "incremental",
             "encoding": "windows-1252 (detected)"},
        ]),
        ("r2", AS_OF, None, "running", 0, 0, 0, 0, []),
    ]  # fmt: skip
    assert rows_of(
        con, 'select run_id, source, "check", rows_failed, failed_share, passed from dq_results'
    ) == [("r1", "deals", "opportunity_id_present", 2, 0.2, False)]
    assert rows_of(con, "select source_line, reasons, checks from dq_quarantine") == [
        (3, "opportunity_id is blank", ["opportunity_id_present"]),
        (7, "opportunity_id is blank", ["opportunity_id_present"]),
    ]


def test_empty_inputs_give_the_as_of_day_with_zeros(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    build()
    assert rows_of(con, "select day, sum(entered), sum(in_stage), count(*) from funnel_daily"
                   " group by day") == [(AS_OF, 0, 0, 8)]  # fmt: skip
    assert rows_of(
        con,
        "select trailing_window, won, lost, win_rate, open_count, weighted_pipeline"
        " from funnel_metrics_daily order by trailing_window",
    ) == [
        ("30d", 0, 0, None, 0, 0.0),
        ("365d", 0, 0, None, 0, 0.0),
        ("90d", 0, 0, None, 0, 0.0),
        ("all", 0, 0, None, 0, 0.0),
    ]
    for table in ("owner_metrics_daily", "source_metrics_daily", "stage_transitions", "leads"):
        assert con.execute(f"select count(*) from {table}").fetchone() == (0,)
