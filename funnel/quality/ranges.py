"""Plausible value ranges: amounts, dates and probabilities a model can hold and a day spine
can span. A value outside is quarantined with its reason, so no single row can fail a run (an
amount of 1e308 overflowed the models' DECIMAL sums; a lead created in year 1 made the day
spine two thousand years long)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import polars as pl

from transforms.schema import Entity

#: The first plausible day of any date: the day spine never starts before it either
#: (sql/intermediate/int_day_spine.sql says the same).
FIRST_PLAUSIBLE_DAY = date(1900, 1, 1)
#: Date fields whose future values are normal (an expected close, a buying timeline): they may
#: lie up to `[validation] date_horizon_days` after the as-of day. Event timestamps may not lie
#: after it at all (their `*_not_after_as_of` checks).
FUTURE_DATE_FIELDS = ("expected_close_date", "timeline")


@dataclass(frozen=True)
class Limits:
    """The configured plausible ranges (`[validation]`)."""

    max_amount: float = 1e12
    date_horizon_days: int = 3650


def range_checks(
    entity: Entity, as_of: date, limits: Limits
) -> list[tuple[str, dict[str, object], pl.Expr, str]]:
    """(name, expectation kwargs, reason, description) of each range check of the entity;
    funnel.quality.checks makes them error checks (`*_in_range`, never turned off)."""
    out: list[tuple[str, dict[str, object], pl.Expr, str]] = []
    top = limits.max_amount
    last_day = as_of + timedelta(days=limits.date_horizon_days)
    first = datetime.combine(FIRST_PLAUSIBLE_DAY, time.min)
    for field, kind in entity.fields.items():
        if kind == "money":
            out.append(
                (
                    f"{field}_in_range",
                    {"column": field, "min_value": -top, "max_value": top},
                    pl.format(
                        f"{field} {{}} is beyond the plausible ±{top:,.0f}"
                        " ([validation] max_amount)",
                        pl.col(field),
                    ),
                    f"{field} is within ±[validation] max_amount",
                )
            )
        elif kind in ("date", "timestamp"):
            future = field in FUTURE_DATE_FIELDS
            bounds: dict[str, object] = {"column": field, "min_value": first}
            described = f"{field} is on or after {FIRST_PLAUSIBLE_DAY}"
            if future:
                bounds["max_value"] = datetime.combine(last_day, time.max)
                described += " and at most [validation] date_horizon_days after the as-of day"
            shown = (
                pl.col(field).dt.to_string("%Y-%m-%d %H:%M:%S")
                if kind == "timestamp"
                else pl.col(field).cast(pl.String)
            )
            early = pl.format(f"{field} {{}} is before {FIRST_PLAUSIBLE_DAY}", shown)
            late = pl.format(
                f"{field} {{}} is after {last_day} (the as-of day + [validation]"
                " date_horizon_days)",
                shown,
            )
            reason = pl.when(pl.col(field).cast(pl.Date) < FIRST_PLAUSIBLE_DAY).then(early)
            out.append((f"{field}_in_range", bounds, reason.otherwise(late), described))
    return out
