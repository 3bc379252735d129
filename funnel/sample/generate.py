"""Writes a synthetic CRM export with realistic dirt: the engine behind `funnel generate`.

Four CSV files in the CRM's own spelling (not canonical names): leads, opportunities, stage
history and activities. Everything is drawn vectorised (numpy + polars, no per-row Python), in
chunks of `CHUNK_LEADS` leads, so memory stays bounded however many leads. Same arguments,
same bytes.

Clean rows obey the funnel's rules: every event lies between `end_date` minus two years and
`end_date` (inclusive), an opportunity's Created Date is its first stage entry and its Stage
its last, a converted lead's Converted Date is its opportunity's Created Date, and history and
activities only name ids present in the files. Then dirt is injected, at `DIRT_RATES` of each
file's rows; its counts go to the summary and to `<out>/_manifest.json`:

- rejection kinds (`REJECT_KINDS`) make a row that a pipeline must quarantine; each dirty row
  carries exactly one of them, so `rejected_rows` is their sum;
- hygiene kinds (`HYGIENE_KINDS`) only need cleaning: white space around a value, mixed-case
  emails, and dates written `MM/DD/YYYY` (`MM/DD/YYYY HH:MM:SS` in timestamp columns).

Every count is a number of rows of the written file (a row is counted once per kind).

Beside them, `eurofxref-hist.csv`: euro reference rates in the European Central Bank's own
layout (a column per currency, newest day first, `N/A` where a currency has no rate, a comma
after the last column), a seeded random walk over every business day of the window, so the
deals' USD, EUR and GBP amounts convert into one reporting currency. It carries no dirt.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from funnel.sample.dirt import (
    FILE_DIRT_KINDS,
    HYGIENE_KINDS,
    REJECT_KINDS,
    dirty_activities,
    dirty_history,
    dirty_leads,
    dirty_opportunities,
)
from funnel.sample.draws import draw_activities, draw_history, draw_leads, draw_opportunities
from funnel.sample.frames import (
    activity_frame,
    history_frame,
    id_series,
    lead_frame,
    opportunity_frame,
)
from funnel.sample.layout import (
    ACTIVITIES_FILE,
    CHUNK_LEADS,
    DAY,
    FILES,
    FUTURE_YEAR,
    HISTORY_FILE,
    LEADS_FILE,
    MANIFEST_FILE,
    OPPORTUNITIES_FILE,
    RATES_FILE,
    WINDOW_DAYS,
    Clock,
)
from funnel.sample.rates import write_rates


@dataclass(frozen=True)
class GenerateSummary:
    """What `generate` wrote: data rows per file and the rows of each dirt kind per file."""

    out_dir: Path
    leads: int
    seed: int
    end_date: date
    #: file name -> data rows (header excluded)
    rows: Mapping[str, int]
    #: file name -> dirt kind -> rows carrying it
    dirt: Mapping[str, Mapping[str, int]]
    #: file name -> rows a pipeline should quarantine (the sum of the rejection kinds)
    rejected_rows: Mapping[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        parts = []
        for f in FILES:
            rejected = self.rejected_rows.get(f, 0)
            hygiene = sum(c for k, c in self.dirt[f].items() if k in HYGIENE_KINDS)
            parts.append(f"{f} {self.rows[f]:,} rows ({rejected} to reject, {hygiene} to clean)")
        if RATES_FILE in self.rows:
            parts.append(f"{RATES_FILE} {self.rows[RATES_FILE]:,} days of exchange rates")
        return "; ".join(parts)

    def manifest(self) -> dict[str, Any]:
        """The content of `_manifest.json`."""
        return {
            "generator": {
                "leads": self.leads,
                "seed": self.seed,
                "end_date": self.end_date.isoformat(),
                "chunk_leads": CHUNK_LEADS,
            },
            "rows": dict(self.rows),
            "dirt": {f: dict(k) for f, k in self.dirt.items()},
            "rejected_rows": dict(self.rejected_rows),
            "reject_kinds": list(REJECT_KINDS),
            "hygiene_kinds": list(HYGIENE_KINDS),
        }


def generate(
    out_dir: Path,
    leads: int = 2000,
    seed: int = 42,
    end_date: date = date(2026, 10, 31),
) -> GenerateSummary:
    """Write leads.csv, opportunities.csv, stage_history.csv, activities.csv and
    _manifest.json into `out_dir` (created if needed; the files are replaced)."""
    if leads < 1:
        raise ValueError(f"leads must be at least 1, got {leads}")
    if seed < 0:
        raise ValueError(f"seed must not be negative, got {seed}")
    if end_date.year >= FUTURE_YEAR:
        raise ValueError(f"end_date must be before {FUTURE_YEAR}, got {end_date}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    end_day = (end_date - date(1970, 1, 1)).days
    clock = Clock(
        start=(end_day - WINDOW_DAYS) * DAY,
        end=(end_day + 1) * DAY - 1,
    )
    rows = dict.fromkeys(FILES, 0)
    dirt = {f: dict.fromkeys(FILE_DIRT_KINDS[f], 0) for f in FILES}
    bases = dict.fromkeys(FILES, 0)
    handles = {f: (out_dir / f).open("wb") for f in FILES}
    try:
        done = 0
        for chunk_no in itertools.count():
            n = min(CHUNK_LEADS, leads - done)
            if n <= 0:
                break
            rng = np.random.default_rng(np.random.SeedSequence([seed, chunk_no]))
            frames, counts, sizes = _chunk(rng, n, bases, clock)
            for f in FILES:
                frames[f].write_csv(handles[f], include_header=chunk_no == 0)
                rows[f] += frames[f].height
                bases[f] += sizes[f]
                for kind, c in counts[f].items():
                    dirt[f][kind] += c
            done += n
    finally:
        for h in handles.values():
            h.close()
    summary = GenerateSummary(
        out_dir=out_dir,
        leads=leads,
        seed=seed,
        end_date=end_date,
        rows=rows,
        dirt=dirt,
        rejected_rows={f: sum(c for k, c in dirt[f].items() if k in REJECT_KINDS) for f in FILES},
    )
    rows[RATES_FILE] = write_rates(out_dir / RATES_FILE, seed, clock)
    (out_dir / MANIFEST_FILE).write_text(
        json.dumps(summary.manifest(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return summary


def _chunk(
    rng: np.random.Generator, n: int, bases: Mapping[str, int], clock: Clock
) -> tuple[dict[str, pl.DataFrame], dict[str, dict[str, int]], dict[str, int]]:
    """One chunk of `n` leads with their opportunities, history and activities, dirt included.

    `bases` holds the ids used by earlier chunks; returns the frames, the dirt counts and the
    number of ids this chunk used per file.
    """
    leads = draw_leads(rng, n, clock)
    opps = draw_opportunities(rng, leads, clock)
    hist = draw_history(opps)
    acts = draw_activities(rng, leads, opps, clock)

    lead_ids = id_series("LD-", bases[LEADS_FILE], n, 8)
    opp_ids = id_series("OP-", bases[OPPORTUNITIES_FILE], len(opps["t0"]), 8)
    act_ids = id_series("AC-", bases[ACTIVITIES_FILE], len(acts["ts"]), 9)

    lead_rows = lead_frame(rng, leads, lead_ids)
    opp_rows = opportunity_frame(opps, opp_ids, lead_ids)
    hist_rows = history_frame(hist, opp_ids)
    act_rows = activity_frame(acts, act_ids, opp_ids, lead_ids)

    frames: dict[str, pl.DataFrame] = {}
    counts: dict[str, dict[str, int]] = {}
    frames[LEADS_FILE], counts[LEADS_FILE] = dirty_leads(rng, lead_rows, leads)
    frames[OPPORTUNITIES_FILE], counts[OPPORTUNITIES_FILE], unknown = dirty_opportunities(
        rng, opp_rows, opps
    )
    frames[HISTORY_FILE], counts[HISTORY_FILE] = dirty_history(rng, hist_rows, hist, unknown)
    frames[ACTIVITIES_FILE], counts[ACTIVITIES_FILE] = dirty_activities(rng, act_rows)
    sizes = {
        LEADS_FILE: n,
        OPPORTUNITIES_FILE: len(opps["t0"]),
        HISTORY_FILE: len(hist["ts"]),
        ACTIVITIES_FILE: len(acts["ts"]),
    }
    return frames, counts, sizes
