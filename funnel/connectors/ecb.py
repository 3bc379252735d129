"""The European Central Bank's euro reference rates: the historical CSV (`eurofxref-hist.csv`).

The file holds a column per currency and a row per day (newest first): `Date,USD,JPY,...`,
each value the units of that currency one euro buys, `N/A` where the ECB quoted none that day
(a currency not yet or no longer quoted), and a trailing comma after the last column.

The preset reads it as the exchange_rates entity: one row per day and quoted currency with the
rate turned around (the euros one unit of the currency buys, `rate_currency` EUR), plus the
euro's own row (rate 1) for each day, so that euro amounts convert when the reporting currency
is another one. The models cross the rates through the euro into any reporting currency the
file quotes (int_exchange_rates__reporting).
"""

from __future__ import annotations

import re

import polars as pl

from funnel.connectors.base import Connector, Preset

# --- settings ---------------------------------------------------------------------------------

#: The currency every ECB rate is quoted against.
BASE = "EUR"
DATE_COLUMN = "Date"
#: The columns of the long rows the preset makes (the file's own "Date" stays as it is).
CURRENCY_COLUMN = "Currency"
QUOTE_COLUMN = "Quote"
RATE_COLUMN = "Rate"
RATE_CURRENCY_COLUMN = "Rate Currency"
#: A currency column: a three-letter code (the trailing comma makes one column without a name).
_CODE = re.compile(r"[A-Za-z]{3}")
#: Values that mean "no rate that day".
MISSING = ("", "N/A", "NA")


def _date_column(columns: list[str]) -> str:
    for c in columns:
        if c.strip().casefold() == DATE_COLUMN.casefold():
            return c
    return columns[0]


def to_long(frame: pl.DataFrame) -> pl.DataFrame:
    """The file's wide rows (text, with `_file` and `_line`) as one row per day and currency.

    `Rate` is 1 / the ECB's quote, as text that reads back as exactly that number. A quote that
    is not a number above zero is passed on as it is, so the checks quarantine that row with the
    value in its reason (values_parse, rate_positive); `N/A` and blank cells are no rate.
    """
    own = [c for c in frame.columns if not c.startswith("_")]
    lineage = [c for c in frame.columns if c.startswith("_")]
    date = _date_column(own)
    quoted = [c for c in own if c != date and _CODE.fullmatch(c.strip())]
    position = {c: i for i, c in enumerate(quoted)}
    long = frame.unpivot(
        on=quoted,
        index=[date, *lineage],
        variable_name=CURRENCY_COLUMN,
        value_name=QUOTE_COLUMN,
    ).with_columns(pl.col(QUOTE_COLUMN).str.strip_chars())
    long = long.filter(
        pl.col(QUOTE_COLUMN).is_not_null()
        & ~pl.col(QUOTE_COLUMN).str.to_uppercase().is_in(list(MISSING))
    )
    quote = pl.col(QUOTE_COLUMN).cast(pl.Float64, strict=False)
    long = long.with_columns(
        pl.col(CURRENCY_COLUMN).str.strip_chars().str.to_uppercase(),
        pl.when(quote > 0)
        .then((1 / quote).cast(pl.String))
        .otherwise(pl.col(QUOTE_COLUMN))
        .alias(RATE_COLUMN),
        pl.col(CURRENCY_COLUMN).replace_strict(position, return_dtype=pl.Int64).alias("_order"),
    )
    # the euro itself, once a day: one euro buys one euro
    euro = frame.select(
        date,
        *lineage,
        pl.lit(BASE).alias(CURRENCY_COLUMN),
        pl.lit("1").alias(QUOTE_COLUMN),
        pl.lit("1").alias(RATE_COLUMN),
        pl.lit(-1, pl.Int64).alias("_order"),
    )
    rows = pl.concat([euro, long], how="vertical_relaxed")
    order = [c for c in ("_file", "_line") if c in rows.columns] + ["_order"]
    return (
        rows.sort(order, maintain_order=True)
        .drop("_order")
        .with_columns(pl.lit(BASE).alias(RATE_CURRENCY_COLUMN))
        .select(date, CURRENCY_COLUMN, QUOTE_COLUMN, RATE_COLUMN, RATE_CURRENCY_COLUMN, *lineage)
    )


PRESETS: dict[str, Preset] = {
    "exchange_rates": Preset(
        columns={
            "rate_date": (DATE_COLUMN,),
            "currency": (CURRENCY_COLUMN,),
            "rate": (RATE_COLUMN,),
            "rate_currency": (RATE_CURRENCY_COLUMN,),
        },
        reshape=to_long,
    ),
}

EXPORT = Connector(format="ecb", presets=PRESETS)
