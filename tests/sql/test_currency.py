"""Conversion into the reporting currency, and money per currency without one (as of 2024-03-31).

Rates (raw_exchange_rates, as the ECB preset loads them: per unit, quoted in EUR):
    USD in EUR: 0.5 on 2024-03-01 (so EUR in USD is 2.0), none later
    GBP in EUR: 1.5 on 2024-03-20 (crossed with USD's rate of 03-01: 3.0 USD)
    SEK in USD: 0.1 on 2024-03-10 (quoted in the reporting currency: taken as it is)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from funnel import sqlmodels
from tests.sql.conftest import create_inputs, fetch, insert

RATES: list[dict[str, Any]] = [
    {"currency": "EUR", "rate_date": date(2024, 3, 1), "rate": 1.0, "rate_currency": "EUR"},
    {"currency": "USD", "rate_date": date(2024, 3, 1), "rate": 0.5, "rate_currency": "EUR"},
    {"currency": "GBP", "rate_date": date(2024, 3, 20), "rate": 1.5, "rate_currency": "EUR"},
    {"currency": "SEK", "rate_date": date(2024, 3, 10), "rate": 0.1, "rate_currency": None},
]
DEALS: list[dict[str, Any]] = [
    # won in EUR on 03-15: EUR's rate of 03-01 (2.0)
    {"opportunity_id": "E1", "stage": "won", "amount": 100.0, "currency": "EUR",
     "created_at": datetime(2024, 3, 1), "closed_at": datetime(2024, 3, 15)},
    # open in GBP: the as-of day's rate, GBP's of 03-20 crossed (3.0)
    {"opportunity_id": "G1", "stage": "proposal", "amount": 10.0, "currency": "GBP",
     "probability": 0.5, "created_at": datetime(2024, 3, 21)},
    # won in SEK on 03-31: 0.1
    {"opportunity_id": "S1", "stage": "won", "amount": 1000.0, "currency": "SEK",
     "created_at": datetime(2024, 3, 2), "closed_at": datetime(2024, 3, 31)},
    # lost, no amount worth a rate
    {"opportunity_id": "N1", "stage": "lost", "amount": 0.0, "currency": "NOK",
     "created_at": datetime(2024, 3, 2), "closed_at": datetime(2024, 3, 3)},
    # the reporting currency, no currency given: the default, USD
    {"opportunity_id": "U1", "stage": "won", "amount": 7.0, "currency": None,
     "created_at": datetime(2024, 3, 2), "closed_at": datetime(2024, 3, 4)},
]  # fmt: skip


def _build(reporting: str | None, default: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    create_inputs(con, reporting_currency=reporting, default_currency=default)
    insert(con, "raw_exchange_rates", RATES)
    insert(con, "raw_opportunities", DEALS)
    sqlmodels.run_models(con)
    assert {k: n for k, n in sqlmodels.run_audits(con).items() if n} == {}
    try:
        yield con
    finally:
        con.close()


@pytest.fixture
def in_usd() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from _build("USD", "USD")


@pytest.fixture
def per_currency() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from _build(None, "USD")


def test_rates_cross_through_the_reporting_currencys_own_rate(
    in_usd: duckdb.DuckDBPyConnection,
) -> None:
    rows = fetch(in_usd, "select currency, rate_date, rate, cross_rate_date from exchange_rates")
    assert [tuple(r.values()) for r in rows] == [
        ("EUR", date(2024, 3, 1), 2.0, date(2024, 3, 1)),
        ("GBP", date(2024, 3, 20), 3.0, date(2024, 3, 1)),  # the nearest leg before
        ("SEK", date(2024, 3, 10), 0.1, None),
    ]


def test_each_deal_converts_at_its_day(in_usd: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(
        in_usd,
        "select opportunity_id, currency, amount_reporting, exchange_rate, exchange_rate_date"
        " from opportunities order by opportunity_id",
    )
    assert [tuple(r.values()) for r in rows] == [
        ("E1", "EUR", 200.0, 2.0, date(2024, 3, 1)),
        ("G1", "GBP", 30.0, 3.0, date(2024, 3, 20)),
        ("N1", "NOK", 0.0, None, None),  # 0 in any currency
        ("S1", "SEK", 100.0, 0.1, date(2024, 3, 10)),
        ("U1", "USD", 7.0, 1.0, None),
    ]
    (m,) = fetch(
        in_usd,
        "select currency, won, won_amount, open_amount, weighted_pipeline from"
        " funnel_metrics_daily where day = '2024-03-31' and trailing_window = '30d'",
    )
    assert m == {
        "currency": "USD",
        "won": 3,
        "won_amount": 307.0,
        "open_amount": 30.0,
        "weighted_pipeline": 15.0,
    }


def test_without_a_reporting_currency_each_currency_has_its_rows(
    per_currency: duckdb.DuckDBPyConnection,
) -> None:
    rows = fetch(
        per_currency,
        "select currency, won, lost, won_amount, open_amount from funnel_metrics_daily"
        " where day = '2024-03-31' and trailing_window = 'all' order by currency",
    )
    assert [tuple(r.values()) for r in rows] == [
        ("EUR", 1, 0, 100.0, 0.0),
        ("GBP", 0, 0, 0.0, 10.0),
        ("NOK", 0, 1, 0.0, 0.0),
        ("SEK", 1, 0, 1000.0, 0.0),
        ("USD", 1, 0, 7.0, 0.0),  # no currency: [currency] default
    ]
    # every day and window of each currency: 31 days x 4 windows x 5 currencies
    assert fetch(per_currency, "select count(*) as n from funnel_metrics_daily") == [
        {"n": 31 * 4 * 5}
    ]
    owners = fetch(per_currency, "select distinct currency from owner_metrics_daily")
    assert {r["currency"] for r in owners} == {"EUR", "GBP", "NOK", "SEK", "USD"}
    assert fetch(per_currency, "select count(*) as n from exchange_rates") == [{"n": 0}]
