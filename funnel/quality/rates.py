"""The check across entities: every opportunity amount converts into the reporting currency.

The exchange_rates sources are checked first (they are reference data: Entity.reference); what
they load decides, per currency, the first day an amount in it can be converted (`Rates`). An
opportunity is converted on its close day when closed, else on the as-of day, at the nearest
rate on or before that day (int_opportunities__converted), so it needs a rate of its currency
on or before that day. The rule for which loaded rates are usable is the models' own
(int_exchange_rates__reporting): a rate quoted in the reporting currency (or with no
rate_currency) is; a rate quoted in another currency B is crossed through the reporting
currency's own rate in B, so it is usable from the first day such a rate exists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from funnel.quality.checks import Check
from transforms.schema import CLOSED_STAGES

RATE_COLUMNS = ("currency", "rate_date", "rate_currency")


@dataclass(frozen=True)
class Rates:
    """What the opportunities' checks know of the exchange rates this run loads."""

    reporting: str
    #: The currency of an amount whose row names none ([currency] default).
    default: str | None
    #: Currency -> the first day an amount in it converts (its first usable rate).
    first_day: Mapping[str, date]

    def digest(self) -> str:
        """A fingerprint of what the checks decide with: an opportunity source whose last load
        was checked against other rates is checked again in full (funnel.incremental)."""
        spec = {
            "reporting": self.reporting,
            "default": self.default,
            "first_day": {c: d.isoformat() for c, d in sorted(self.first_day.items())},
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def first_days(rows: pl.DataFrame, reporting: str) -> dict[str, date]:
    """Currency -> the first day of its usable rates, from loaded exchange_rates rows
    (`currency`, `rate_date`, `rate_currency`). The reporting currency needs none."""
    rows = rows.select(RATE_COLUMNS).with_columns(pl.col("rate_currency").fill_null(reporting))
    legs = (
        rows.filter((pl.col("currency") == reporting) & (pl.col("rate_currency") != reporting))
        .group_by("rate_currency")
        .agg(pl.col("rate_date").min().alias("_leg_from"))
    )
    usable = (
        rows.filter(pl.col("currency") != reporting)
        .join(legs, on="rate_currency", how="left")
        .filter(
            (pl.col("rate_currency") == reporting)
            | (pl.col("_leg_from") <= pl.col("rate_date")).fill_null(False)
        )
    )
    found = usable.group_by("currency").agg(pl.col("rate_date").min())
    return {str(c): d for c, d in found.iter_rows()}


def rates_of(loaded: Iterable[pl.DataFrame], reporting: str, default: str | None) -> Rates:
    """The Rates of the exchange_rates rows that load (an entity's SourceOutcome.loaded() parts;
    none when no exchange_rates source is configured)."""
    parts = [p.select(RATE_COLUMNS) for p in loaded]
    schema = {"currency": pl.String, "rate_date": pl.Date, "rate_currency": pl.String}
    rows = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return Rates(reporting, default, first_days(rows, reporting))


def with_check_columns(frame: pl.DataFrame, rates: Rates, as_of: date) -> pl.DataFrame:
    """The columns the conversion checks read, on opportunity rows: `_currency` (the row's, else
    the default), `_convert_on` (the close day when closed, else the as-of day), `_first_rate`,
    and `_currency_ok` / `_rate_ok` (null where the check fails)."""
    currency = pl.coalesce(pl.col("currency"), pl.lit(rates.default, pl.String))
    closed_on = pl.col("closed_at").dt.date()
    closed = pl.col("stage").is_in(list(CLOSED_STAGES)) & closed_on.is_not_null()
    # an amount of 0 (a lost deal's, often) or none is 0 or none in any currency
    has_amount = pl.col("amount").is_not_null() & (pl.col("amount") != 0)
    first = pl.DataFrame(
        {"_currency": list(rates.first_day), "_first_rate": list(rates.first_day.values())},
        schema={"_currency": pl.String, "_first_rate": pl.Date},
    )
    out = frame.with_columns(
        currency.alias("_currency"),
        pl.when(closed)
        .then(pl.min_horizontal(closed_on, pl.lit(as_of)))
        .otherwise(pl.lit(as_of))
        .alias("_convert_on"),
        pl.when(closed & (closed_on <= as_of))
        .then(pl.lit("its close day"))
        .otherwise(pl.lit("the as-of day"))
        .alias("_convert_why"),
        has_amount.alias("_has_amount"),
    ).join(first, on="_currency", how="left", maintain_order="left")
    needs_rate = (
        pl.col("_has_amount")
        & pl.col("_currency").is_not_null()
        & (pl.col("_currency") != rates.reporting)
    )
    no_rate = pl.col("_first_rate").is_null() | (pl.col("_first_rate") > pl.col("_convert_on"))
    return out.with_columns(
        pl.when(pl.col("_has_amount") & pl.col("_currency").is_null())
        .then(None)
        .otherwise(pl.lit(True))
        .alias("_currency_ok"),
        pl.when(needs_rate & no_rate).then(None).otherwise(pl.lit(True)).alias("_rate_ok"),
    )


def checks(rates: Rates) -> list[Check]:
    """The conversion checks of opportunities. Always errors: an amount that cannot be
    converted would be a wrong figure, or a missing one, in every money metric."""
    reporting = rates.reporting
    first = pl.col("_first_rate").dt.to_string("%Y-%m-%d")
    return [
        Check(
            "currency_present",
            "error",
            "ExpectColumnValuesToNotBeNull",
            {"column": "_currency_ok"},
            pl.format(
                f"currency is blank: amount {{}} cannot be converted to {reporting} (give the"
                " source a currency column or constant, or set [currency] default)",
                pl.col("amount"),
            ),
            "every amount names its currency (or [currency] default does)",
        ),
        Check(
            "currency_has_rate",
            "error",
            "ExpectColumnValuesToNotBeNull",
            {"column": "_rate_ok"},
            pl.format(
                f"no exchange rate of {{}} into {reporting} on or before {{}} ({{}}); {{}}",
                pl.col("_currency"),
                pl.col("_convert_on").dt.to_string("%Y-%m-%d"),
                pl.col("_convert_why"),
                pl.when(pl.col("_first_rate").is_null())
                .then(pl.format("the exchange rates have none for {}", pl.col("_currency")))
                .otherwise(pl.format("its rates start {}", first)),
            ),
            f"every amount in another currency has a rate into {reporting} on or before the"
            " day it converts (its close day, else the as-of day)",
        ),
    ]
