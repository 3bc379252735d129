"""One reporting currency: a three-currency export run with and without exchange rates.

The rates are the European Central Bank's layout (eurofxref-hist.csv: a column per currency,
units per euro, newest day first, `N/A`, a trailing comma), written here. Every figure below is
computed by hand from these rows (as of Sunday 2024-03-31):

    ECB quote (units per euro)    USD     GBP     -> in EUR: USD    GBP   | in USD: GBP    EUR
    2024-02-01                    2.0     0.5              0.5    2.0   |        4.0     2.0
    2024-03-01                    1.25    0.8              0.8    1.25  |        1.5625  1.25
    2024-03-28 (Thursday)         1.0     1.0              1.0    1.0   |        1.0     1.0

JPY is N/A on every day. A closed deal converts at its close date, an open one at the as-of
day (nearest rate on or before: 2024-03-28).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.nightly import nightly
from funnel.summary import RunSummary

pytestmark = pytest.mark.usefixtures("prefect_server")

AS_OF = date(2024, 3, 31)

ECB_CSV = """\
Date,USD,JPY,GBP,
2024-03-28,1.0000,N/A,1.0000,
2024-03-01,1.2500,N/A,0.8000,
2024-02-01,2.0000,N/A,0.5000,
"""

DEALS_CSV = """\
Deal,Stage,Amount,Currency,Created,Closed,Probability
O1,Won,1000,USD,2024-01-10,2024-02-15,
O2,Won,1000,gbp,2024-02-10,2024-03-05,
O3,Won,1000,EUR,2024-03-01,2024-03-29,
O4,Proposal,2000,USD,2024-03-10,,0.5
O5,Negotiation,4000,GBP,2024-03-12,,0.25
O6,Lost,0,USD,2024-03-01,2024-03-20,
O7,Won,100000,JPY,2024-02-01,2024-03-10,
O8,Won,500,USD,2024-01-02,2024-01-15,
O9,Proposal,300,,2024-03-15,,0.5
"""

CONFIG = """
[warehouse]
path = "wh/funnel.duckdb"

[validation]
max_error_share = 0.5
{currency}
[[sources]]
name = "deals"
entity = "opportunities"
path = "deals.csv"
[sources.columns]
opportunity_id = "Deal"
stage = "Stage"
amount = "Amount"
currency = "Currency"
created_at = "Created"
closed_at = "Closed"
probability = "Probability"
{rates}"""

ECB_SOURCE = """
[[sources]]
name = "ecb"
entity = "exchange_rates"
format = "ecb"
path = "eurofxref-hist.csv"
"""


def _run(tmp_path: Path, currency: str, rates: bool = True) -> tuple[Path, RunSummary]:
    """A nightly run of the deals (and the ECB rates) as of AS_OF: the published warehouse."""
    (tmp_path / "deals.csv").write_text(DEALS_CSV)
    (tmp_path / "eurofxref-hist.csv").write_text(ECB_CSV)
    config = CONFIG.format(currency=currency, rates=ECB_SOURCE if rates else "")
    (tmp_path / "funnel.toml").write_text(config)
    summary = nightly(config_path=str(tmp_path / "funnel.toml"), as_of=AS_OF)
    assert summary.status == "published"
    for s in summary.sources:
        assert s.rows_read == s.rows_loaded + s.rows_quarantined
    return tmp_path / "wh" / "funnel.duckdb", summary


def _rows(wh: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(wh), read_only=True) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _all_window(wh: Path) -> dict[str | None, dict[str, Any]]:
    rows = _rows(
        wh,
        "select * from funnel_metrics_daily where day = '2024-03-31' and trailing_window = 'all'",
    )
    return {r["currency"]: r for r in rows}


def test_ecb_rates_convert_every_amount_into_euros(tmp_path: Path) -> None:
    wh, summary = _run(tmp_path, '[currency]\nreporting = "EUR"\n')

    # the ECB file: 3 days x (EUR itself, USD, GBP); JPY's N/A cells are no rate
    counts = {s.source: (s.rows_read, s.rows_loaded, s.rows_quarantined) for s in summary.sources}
    assert counts == {"ecb": (9, 9, 0), "deals": (9, 6, 3)}
    rates = _rows(wh, "select currency, rate_date, rate from exchange_rates")
    assert [(r["currency"], str(r["rate_date"]), r["rate"]) for r in rates] == [
        ("GBP", "2024-02-01", 2.0),
        ("GBP", "2024-03-01", 1.25),
        ("GBP", "2024-03-28", 1.0),
        ("USD", "2024-02-01", 0.5),
        ("USD", "2024-03-01", 0.8),
        ("USD", "2024-03-28", 1.0),
    ]

    opps = {
        r["opportunity_id"]: r
        for r in _rows(
            wh,
            "select opportunity_id, amount, currency, amount_reporting, reporting_currency,"
            " exchange_rate, exchange_rate_date from opportunities",
        )
    }
    # closed: at the close date's rate (or the nearest before); open: at the as-of day's
    assert {k: (v["currency"], v["amount_reporting"]) for k, v in opps.items()} == {
        "O1": ("USD", 500.0),  # closed 02-15: rate of 02-01
        "O2": ("GBP", 1250.0),  # 'gbp' is GBP; closed 03-05: rate of 03-01
        "O3": ("EUR", 1000.0),  # the reporting currency: 1
        "O4": ("USD", 2000.0),  # open: the rate of 03-28 (the 31st is a Sunday)
        "O5": ("GBP", 4000.0),
        "O6": ("USD", 0.0),
    }
    assert str(opps["O1"]["exchange_rate_date"]) == "2024-02-01"
    assert str(opps["O4"]["exchange_rate_date"]) == "2024-03-28"
    assert opps["O3"]["exchange_rate"] == 1.0 and opps["O3"]["exchange_rate_date"] is None

    # every money metric in EUR, one currency
    (m,) = _all_window(wh).items()
    assert m[0] == "EUR"
    figures = m[1]
    assert (figures["won"], figures["lost"]) == (3, 1)
    assert figures["won_amount"] == 500 + 1250 + 1000
    assert figures["avg_deal_size"] == pytest.approx(2750 / 3)
    assert (figures["open_count"], figures["open_amount"]) == (2, 6000.0)
    assert figures["weighted_pipeline"] == 2000 * 0.5 + 4000 * 0.25
    (thirty,) = _rows(
        wh,
        "select won_amount from funnel_metrics_daily"
        " where day = '2024-03-31' and trailing_window = '30d'",
    )
    assert thirty["won_amount"] == 1250 + 1000  # O2 (03-05) and O3 (03-29)
    forecast = _rows(wh, "select currency, open_amount, weighted_amount from pipeline_forecast")
    assert {r["currency"] for r in forecast} == {"EUR"}
    assert sum(r["open_amount"] for r in forecast) == 6000.0
    assert sum(r["weighted_amount"] for r in forecast) == 2000.0
    lookback = _rows(
        wh, "select currency, won_amount from forecast_lookback where close_month = '2024-03-01'"
    )
    assert lookback == [{"currency": "EUR", "won_amount": 2250.0}]

    # the deals no rate converts are quarantined with their reason, never loaded
    quarantine = {
        json.loads(r["original_row"])["Deal"]: r["reasons"]
        for r in _rows(wh, "select reasons, original_row from dq_quarantine")
    }
    assert quarantine == {
        "O7": "no exchange rate of JPY into EUR on or before 2024-03-10 (its close day); the"
        " exchange rates have none for JPY",
        "O8": "no exchange rate of USD into EUR on or before 2024-01-15 (its close day); its"
        " rates start 2024-02-01",
        "O9": "currency is blank: amount 300.0 cannot be converted to EUR (give the source a"
        " currency column or constant, or set [currency] default)",
    }
    checks = {
        r["check"]: r["rows_failed"]
        for r in _rows(wh, "select \"check\", rows_failed from dq_results where source = 'deals'")
    }
    assert (checks["currency_has_rate"], checks["currency_present"]) == (2, 1)


def test_a_reporting_currency_other_than_the_euro_crosses_through_it(tmp_path: Path) -> None:
    wh, _ = _run(tmp_path, '[currency]\nreporting = "usd"\ndefault = "EUR"\n')
    opps = {
        r["opportunity_id"]: r["amount_reporting"]
        for r in _rows(wh, "select opportunity_id, amount_reporting from opportunities")
    }
    assert opps == {
        "O1": 1000.0,  # USD is the reporting currency: no rate needed
        "O2": pytest.approx(1562.5),  # GBP at 03-01: 1.25 EUR / 0.8 EUR per USD
        "O3": pytest.approx(1000.0),  # EUR at 03-28: 1 / 1.0
        "O4": 2000.0,
        "O5": pytest.approx(4000.0),
        "O6": 0.0,
        "O8": 500.0,  # a USD deal before the first rate needs none
        "O9": pytest.approx(300.0),  # no currency: [currency] default EUR, at 03-28
    }
    (figures,) = _all_window(wh).values()
    assert figures["currency"] == "USD"
    assert (figures["won"], figures["won_amount"]) == (4, pytest.approx(4062.5))
    assert figures["open_amount"] == pytest.approx(6300.0)
    (rate,) = _rows(
        wh,
        "select rate, quoted_rate, quoted_in, cross_rate_date from exchange_rates"
        " where currency = 'GBP' and rate_date = '2024-03-01'",
    )
    assert rate == {
        "rate": pytest.approx(1.5625),
        "quoted_rate": pytest.approx(1.25),
        "quoted_in": "EUR",
        "cross_rate_date": date(2024, 3, 1),
    }
    quarantined = [r["reasons"] for r in _rows(wh, "select reasons from dq_quarantine")]
    assert quarantined == [
        "no exchange rate of JPY into USD on or before 2024-03-10 (its close day); the"
        " exchange rates have none for JPY"
    ]


def test_without_a_reporting_currency_figures_are_per_currency(tmp_path: Path) -> None:
    wh, _ = _run(tmp_path, "", rates=False)
    assert _rows(wh, "select count(*) as n from dq_quarantine") == [{"n": 0}]
    figures = {
        c: (r["won"], r["lost"], r["won_amount"], r["open_count"], r["open_amount"])
        for c, r in _all_window(wh).items()
    }
    assert figures == {
        "USD": (2, 1, 1500.0, 1, 2000.0),
        "GBP": (1, 0, 1000.0, 1, 4000.0),
        "EUR": (1, 0, 1000.0, 0, 0.0),
        "JPY": (1, 0, 100000.0, 0, 0.0),
        None: (0, 0, 0.0, 1, 300.0),  # the deal that names no currency
    }
    forecast = _rows(
        wh,
        "select currency, sum(open_amount) as open_amount from pipeline_forecast"
        " group by currency order by currency",
    )
    assert [(r["currency"], r["open_amount"]) for r in forecast] == [
        ("GBP", 4000.0),
        ("USD", 2000.0),
        (None, 300.0),
    ]
    opps = _rows(wh, "select amount_reporting, exchange_rate from opportunities")
    assert {(r["amount_reporting"], r["exchange_rate"]) for r in opps} == {(None, None)}
    assert _rows(wh, "select count(*) as n from exchange_rates") == [{"n": 0}]
    # the report says the figures are per currency, and which ones it shows
    report = (wh.parent / "report.html").read_text(encoding="utf-8")
    assert "amounts per currency, never converted or added up" in report
    assert "the figures are those of the opportunities in USD" in report
