"""The exchange_rates entity read like any source: a CSV with columns and constants, its checks,
the ECB preset's reshape, and the first day each currency converts (funnel.quality.rates)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from funnel.config import load_config
from funnel.connectors.ecb import to_long
from funnel.errors import ConfigError
from funnel.extract import extract_files
from funnel.hygiene import clean_source
from funnel.quality.rates import first_days
from funnel.quality.validate import validate_entity

TREASURY_CSV = """\
Currency;Day;Rate
usd;01.03.2024;0,92
GBP;01.03.2024;1,17
CHF;01.03.2024;0
JPY;;0,0062
GBP;01.03.2024;1,16
SEK;02.03.2024;0,088
NOK;02.04.2024;0,085
"""
BANK_CSV = """\
currency,rate_date,rate
SEK,2024-03-02,0.087
NOK,2024-03-02,0.086
"""
CONFIG = """
[currency]
reporting = "EUR"

[[sources]]
name = "treasury"
entity = "exchange_rates"
path = "treasury.csv"
delimiter = ";"
decimal_comma = true
date_format = "%d.%m.%Y"
[sources.columns]
currency = "Currency"
rate_date = "Day"
rate = "Rate"
[sources.constants]
rate_currency = "EUR"

[[sources]]
name = "bank"
entity = "exchange_rates"
path = "bank.csv"
"""


def test_a_csv_source_of_rates_is_cleaned_and_checked(tmp_path: Path) -> None:
    (tmp_path / "treasury.csv").write_text(TREASURY_CSV)
    (tmp_path / "bank.csv").write_text(BANK_CSV)
    (tmp_path / "funnel.toml").write_text(CONFIG)
    cfg = load_config(tmp_path / "funnel.toml")
    parts = [clean_source(cfg, s, extract_files(cfg, s)) for s in cfg.sources]
    outcome = validate_entity("exchange_rates", parts, date(2024, 3, 31), cfg.validation)

    treasury, bank = outcome.sources
    assert (treasury.rows_read, treasury.rows_loaded, treasury.rows_quarantined) == (7, 2, 5)
    assert (bank.rows_read, bank.rows_loaded, bank.rows_quarantined) == (2, 1, 1)
    loaded = pl.concat(treasury.loaded()).select("currency", "rate_date", "rate", "rate_currency")
    assert loaded.rows() == [
        ("USD", date(2024, 3, 1), 0.92, "EUR"),  # codes upper-case
        ("GBP", date(2024, 3, 1), 1.16, "EUR"),  # the later line of a repeated day wins
    ]
    reasons = {
        (r["source"], r["source_line"]): r["reasons"]
        for r in outcome.quarantine.iter_rows(named=True)
    }
    assert reasons == {
        ("treasury", 3): "duplicate currency and rate_date: superseded by the row on line 6",
        ("treasury", 4): "rate 0.0 is not above 0",
        ("treasury", 5): "rate_date is blank",
        ("treasury", 7): "currency 'SEK' and rate_date '2024-03-02' also come from another source",
        ("treasury", 8): "rate_date 2024-04-02 is after the as-of day 2024-03-31",
        ("bank", 2): "currency 'SEK' and rate_date '2024-03-02' also come from another source",
    }


def test_the_ecb_layout_becomes_a_row_per_day_and_currency() -> None:
    wide = pl.DataFrame(
        {
            "Date": ["2024-03-28", "2024-03-27"],
            "USD": ["1.0800", "1.2500"],
            "CYP": ["N/A", "N/A"],
            "GBP": ["0.8000", "abc"],
            "": [None, None],  # the trailing comma's column
            "_file": ["f.csv", "f.csv"],
            "_line": [2, 3],
        }
    )
    long = to_long(wide)
    assert long.select("Date", "Currency", "Quote", "Rate", "Rate Currency", "_line").rows() == [
        ("2024-03-28", "EUR", "1", "1", "EUR", 2),
        ("2024-03-28", "USD", "1.0800", str(1 / 1.08), "EUR", 2),
        ("2024-03-28", "GBP", "0.8000", "1.25", "EUR", 2),
        ("2024-03-27", "EUR", "1", "1", "EUR", 3),
        ("2024-03-27", "USD", "1.2500", "0.8", "EUR", 3),
        # not a number: passed on as it is, for the checks to quarantine with the value
        ("2024-03-27", "GBP", "abc", "abc", "EUR", 3),
    ]
    assert float(long.row(1, named=True)["Rate"]) == 1 / 1.08  # reads back exactly


def test_rates_quoted_in_another_currency_convert_once_its_leg_exists() -> None:
    rows = pl.DataFrame(
        {
            "currency": ["EUR", "USD", "GBP", "GBP", "EUR", "JPY", "CHF"],
            "rate_date": [date(2024, 3, d) for d in (1, 5, 1, 5, 5, 2, 3)],
            "rate_currency": ["EUR", "EUR", "EUR", "EUR", "EUR", None, "USD"],
        }
    )
    # reporting USD: EUR-quoted rates need USD's own rate in EUR (from 03-05); a rate without
    # rate_currency is in USD already; USD needs none
    assert first_days(rows, "USD") == {
        "EUR": date(2024, 3, 5),
        "GBP": date(2024, 3, 5),
        "JPY": date(2024, 3, 2),
        "CHF": date(2024, 3, 3),
    }


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[sources]]\nname = "ecb"\nentity = "exchange_rates"\nformat = "ecb"\npath = "x"\n',
            "exchange rates are used only to convert amounts into the reporting currency",
        ),
        (
            '[currency]\nreporting = "EUR"\n[[sources]]\nname = "ecb"\nentity = "exchange_rates"'
            '\nformat = "ecb"\npath = "x"\nchanges_only = true\n',
            "sources[ecb]: changes_only: exchange_rates is read whole every run",
        ),
        (
            '[currency]\nreporting = "Euro"\n[[sources]]\nname = "d"\nentity = "leads"\n'
            'path = "x"\n',
            "currency.reporting: String should match pattern",
        ),
        (
            '[[sources]]\nname = "d"\nentity = "deals"\npath = "x"\n',
            "sources[d].entity: unknown entity 'deals'; one of leads, opportunities,",
        ),
    ],
)
def test_currency_config_mistakes_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "funnel.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "funnel.toml")
    assert message in str(err.value)


def test_the_quarantined_rate_keeps_the_ecb_row_as_evidence(tmp_path: Path) -> None:
    (tmp_path / "eurofxref-hist.csv").write_text(
        "Date,USD,GBP,\n2024-03-28,1.0800,-0.8,\n2024-03-27,1.2500,N/A,\n"
    )
    (tmp_path / "funnel.toml").write_text(
        '[currency]\nreporting = "EUR"\n[[sources]]\nname = "ecb"\nentity = "exchange_rates"\n'
        'format = "ecb"\npath = "eurofxref-hist.csv"\n'
    )
    cfg = load_config(tmp_path / "funnel.toml")
    (source,) = cfg.sources
    outcome = validate_entity(
        "exchange_rates",
        [clean_source(cfg, source, extract_files(cfg, source))],
        date(2024, 3, 31),
        cfg.validation,
    )
    (ecb,) = outcome.sources
    assert (ecb.rows_read, ecb.rows_loaded, ecb.rows_quarantined) == (5, 4, 1)
    (bad,) = outcome.quarantine.iter_rows(named=True)
    assert (bad["source_line"], bad["reasons"]) == (2, "rate -0.8 is not above 0")
    assert json.loads(bad["original_row"]) == {
        "Date": "2024-03-28",
        "Currency": "GBP",
        "Quote": "-0.8",
        "Rate": "-0.8",
        "Rate Currency": "EUR",
    }
