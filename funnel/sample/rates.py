"""Euro reference rates in the ECB's own layout (`eurofxref-hist.csv`), a seeded walk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from funnel.sample.layout import DATE_FORMAT, DAY, Clock

#: The rates file's columns: currency, units per euro on the window's first day, decimals the
#: ECB quotes, and the day-to-day spread of its logarithm. HRK (the Croatian kuna, replaced by
#: the euro in 2023) is N/A on every day, as in the ECB's own file.
RATE_CURRENCIES: tuple[tuple[str, float, int, float], ...] = (
    ("USD", 1.0850, 4, 0.0045),
    ("JPY", 161.50, 2, 0.0060),
    ("GBP", 0.85250, 5, 0.0030),
    ("CHF", 0.9450, 4, 0.0035),
    ("HRK", 0.0, 0, 0.0),
)
#: The rates' random stream: apart from every chunk's ([seed, chunk number]).
_RATES_STREAM = 2**31 - 1


def write_rates(path: Path, seed: int, clock: Clock) -> int:
    """Euro reference rates of every business day of the window (not 1 January, 1 May, 25 and
    26 December), newest first, in the ECB's layout; returns the data rows written."""
    first, last = clock.start // DAY, clock.end_day
    days = pl.Series(np.arange(first, last + 1), dtype=pl.Int64).cast(pl.Int32).cast(pl.Date)
    md = days.dt.strftime("%m-%d")
    days = days.filter((days.dt.weekday() <= 5) & ~md.is_in(["01-01", "05-01", "12-25", "12-26"]))
    rng = np.random.default_rng(np.random.SeedSequence([seed, _RATES_STREAM]))
    columns: dict[str, pl.Series] = {"Date": days.dt.strftime(DATE_FORMAT)}
    for code, start, decimals, spread in RATE_CURRENCIES:
        if not start:
            columns[code] = pl.repeat("N/A", len(days), dtype=pl.String, eager=True)
            continue
        # the logarithm wanders back towards the start (a rate drifts, but not away for good)
        steps = rng.normal(0.0, spread, len(days))
        level = np.empty(len(days))
        drift = 0.0
        for i, step in enumerate(steps):
            drift = 0.98 * drift + step
            level[i] = drift
        rates = np.round(start * np.exp(level), decimals)
        columns[code] = pl.Series([f"{v:.{decimals}f}" for v in rates], dtype=pl.String)
    frame = pl.DataFrame(columns).reverse()  # newest first, as the ECB writes it
    lines = frame.select(pl.concat_str(pl.all(), separator=",") + ",").to_series()
    header = ",".join(columns) + ","
    path.write_text("\n".join([header, *lines.to_list()]) + "\n", encoding="utf-8")
    return frame.height
