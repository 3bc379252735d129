"""Arrays of drawn records -> the files' text columns (ids, labels, dates, money)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from funnel.sample.labels import (
    ACTIVITY_TYPES,
    AUTHORITY_LABELS,
    CURRENCIES,
    LEAD_SOURCES,
    LEAD_STATUSES,
    LOSS_REASONS,
    NEED_LABELS,
    OWNERS,
    PIPELINES,
    STAGE_LABELS,
)
from funnel.sample.layout import DATE_FORMAT, TIMESTAMP_FORMAT, Arr
from funnel.sample.people import company_pool, contacts


def label_series(labels: Sequence[str], idx: Arr, valid: Arr | None = None) -> pl.Series:
    """Labels by index; null where `valid` is False."""
    if valid is not None:
        return pl.Series(labels).gather(nullable_index(np.where(valid, idx, -1)))
    return pl.Series(labels).gather(idx)


def nullable_index(idx: Arr) -> pl.Series:
    """Indexes for gather, with -1 as null."""
    s = pl.Series(idx, dtype=pl.Int64)
    return s.set(s < 0, None)


def id_series(prefix: str, base: int, n: int, width: int) -> pl.Series:
    numbers = pl.Series(np.arange(base + 1, base + n + 1, dtype=np.int64))
    return (prefix + numbers.cast(pl.String).str.zfill(width)).alias("id")


def fmt_ts(seconds: Arr, valid: Arr | None = None) -> pl.Series:
    """Epoch seconds -> 'YYYY-MM-DD HH:MM:SS' (null where not valid or negative)."""
    s = pl.Series(seconds, dtype=pl.Int64)
    out = pl.from_epoch(s, time_unit="s").dt.strftime(TIMESTAMP_FORMAT)
    mask = s < 0 if valid is None else (s < 0) | pl.Series(~valid)
    return out.set(mask, None)


def fmt_date(days: Arr, valid: Arr | None = None) -> pl.Series:
    s = pl.Series(days, dtype=pl.Int64)
    out = s.cast(pl.Int32).cast(pl.Date).dt.strftime(DATE_FORMAT)
    return out if valid is None else out.set(pl.Series(~valid), None)


def fmt_money(dollars: Arr, valid: Arr | None = None) -> pl.Series:
    """Whole dollars -> '12450.00'."""
    out = pl.Series(dollars, dtype=pl.Int64).cast(pl.String) + ".00"
    return out if valid is None else out.set(pl.Series(~valid), None)


def lead_frame(
    rng: np.random.Generator, leads: dict[str, Arr], lead_ids: pl.Series
) -> pl.DataFrame:
    names, _ = company_pool()
    text = contacts(rng, leads["company"])
    return pl.DataFrame(
        {
            "Lead ID": lead_ids,
            "Created Date": fmt_ts(leads["created"]),
            "Email": text.get_column("Email"),
            "Phone": text.get_column("Phone"),
            "Company": names.gather(leads["company"]),
            "Lead Source": label_series(LEAD_SOURCES, leads["source"]),
            "Lead Owner": label_series(OWNERS, leads["owner"]),
            "Lead Status": label_series(tuple(LEAD_STATUSES), leads["status"]),
            "Budget": fmt_money(leads["budget"], leads["has_budget"]),
            "Authority": label_series(AUTHORITY_LABELS, leads["authority"], leads["has_authority"]),
            "Need": label_series(NEED_LABELS, leads["need"], leads["has_need"]),
            "Timeline": fmt_date(leads["timeline"], leads["has_timeline"]),
            "Converted Date": fmt_ts(leads["converted_ts"]),
            "Last Modified Date": fmt_ts(leads["modified"]),
        }
    )


def opportunity_frame(
    opps: dict[str, Arr], opp_ids: pl.Series, lead_ids: pl.Series
) -> pl.DataFrame:
    names, _ = company_pool()
    return pl.DataFrame(
        {
            "Opportunity ID": opp_ids,
            "Lead ID": lead_ids.gather(nullable_index(opps["lead"])),
            "Account Name": names.gather(opps["account"]),
            "Opportunity Owner": label_series(OWNERS, opps["owner"]),
            "Stage": label_series(STAGE_LABELS, opps["current"]),
            "Amount": fmt_money(opps["amount"]),
            "Currency": label_series(CURRENCIES, opps["currency"]),
            "Created Date": fmt_ts(opps["t0"]),
            "Expected Close Date": fmt_date(opps["expected"]),
            "Close Date": fmt_ts(opps["close_ts"]),
            "Probability": pl.Series(opps["probability"], dtype=pl.Int64)
            .cast(pl.String)
            .set(pl.Series(~opps["has_probability"]), None),
            "Loss Reason": label_series(LOSS_REASONS, opps["loss_reason"], opps["has_loss_reason"]),
            "Pipeline": label_series(PIPELINES, opps["pipeline"]),
            "Last Modified Date": fmt_ts(opps["modified"]),
        }
    )


def history_frame(hist: dict[str, Arr], opp_ids: pl.Series) -> pl.DataFrame:
    """The stage history file's columns."""
    return pl.DataFrame(
        {
            "Opportunity ID": opp_ids.gather(hist["opp"]),
            "Stage": label_series(STAGE_LABELS, hist["stage"]),
            "Changed At": fmt_ts(hist["ts"]),
            "Amount": fmt_money(hist["amount"]),
        }
    )


def activity_frame(
    acts: dict[str, Arr], act_ids: pl.Series, opp_ids: pl.Series, lead_ids: pl.Series
) -> pl.DataFrame:
    """The activities file's columns."""
    return pl.DataFrame(
        {
            "Activity ID": act_ids,
            "Opportunity ID": opp_ids.gather(nullable_index(acts["opp"])),
            "Lead ID": lead_ids.gather(nullable_index(acts["lead"])),
            "Type": label_series(ACTIVITY_TYPES, acts["type"]),
            "Occurred At": fmt_ts(acts["ts"]),
            "Owner": label_series(OWNERS, acts["owner"]),
        }
    )
