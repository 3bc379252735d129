"""A synthetic CRM export with realistic dirt: the engine behind `funnel generate`.

Four CSV files in the CRM's own spelling (not canonical names): leads, opportunities, stage
history and activities. Everything is drawn vectorised (numpy + polars, no per-row Python), in
chunks of `CHUNK_LEADS` leads, so 10M leads fit in a few GB. Same arguments, same bytes.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

Arr = npt.NDArray[Any]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


LEADS_FILE = "leads.csv"
OPPORTUNITIES_FILE = "opportunities.csv"
HISTORY_FILE = "stage_history.csv"
ACTIVITIES_FILE = "activities.csv"
FILES: tuple[str, ...] = (LEADS_FILE, OPPORTUNITIES_FILE, HISTORY_FILE, ACTIVITIES_FILE)
#: The exchange rates, in the ECB's layout (funnel.connectors.ecb); not one of the CRM FILES.
RATES_FILE = "eurofxref-hist.csv"
MANIFEST_FILE = "_manifest.json"

#: Leads per chunk: bounds memory (about 0.5 GB per chunk); part of the output's identity.
CHUNK_LEADS = 500_000
#: Days of history before end_date.
WINDOW_DAYS = 730
#: The year of the "dates after the as-of day" dirt.
FUTURE_YEAR = 2099
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
#: What the mixed-date-format dirt writes instead (timestamps keep their time of day).
US_TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
US_DATE_FORMAT = "%m/%d/%Y"

# --- The files' headers --------------------------------------------------------------------
LEAD_COLUMNS: tuple[str, ...] = (
    "Lead ID",
    "Created Date",
    "Email",
    "Phone",
    "Company",
    "Lead Source",
    "Lead Owner",
    "Lead Status",
    "Budget",
    "Authority",
    "Need",
    "Timeline",
    "Converted Date",
    "Last Modified Date",
)
OPPORTUNITY_COLUMNS: tuple[str, ...] = (
    "Opportunity ID",
    "Lead ID",
    "Account Name",
    "Opportunity Owner",
    "Stage",
    "Amount",
    "Currency",
    "Created Date",
    "Expected Close Date",
    "Close Date",
    "Probability",
    "Loss Reason",
    "Pipeline",
    "Last Modified Date",
)
HISTORY_COLUMNS: tuple[str, ...] = ("Opportunity ID", "Stage", "Changed At", "Amount")
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "Activity ID",
    "Opportunity ID",
    "Lead ID",
    "Type",
    "Occurred At",
    "Owner",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    LEADS_FILE: LEAD_COLUMNS,
    OPPORTUNITIES_FILE: OPPORTUNITY_COLUMNS,
    HISTORY_FILE: HISTORY_COLUMNS,
    ACTIVITIES_FILE: ACTIVITY_COLUMNS,
}
#: Date-only columns (everything else named in DATE_COLUMNS is a timestamp).
DATE_ONLY_COLUMNS = frozenset({"Timeline", "Expected Close Date"})
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    LEADS_FILE: ("Created Date", "Timeline", "Converted Date", "Last Modified Date"),
    OPPORTUNITIES_FILE: ("Created Date", "Expected Close Date", "Close Date", "Last Modified Date"),
    HISTORY_FILE: ("Changed At",),
    ACTIVITIES_FILE: ("Occurred At",),
}
#: Columns that may get white space around their value (hygiene dirt).
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    LEADS_FILE: ("Lead ID", "Email", "Company", "Lead Source", "Lead Owner", "Lead Status"),
    OPPORTUNITIES_FILE: (
        "Opportunity ID",
        "Lead ID",
        "Account Name",
        "Opportunity Owner",
        "Stage",
        "Pipeline",
    ),
    HISTORY_FILE: ("Opportunity ID", "Stage"),
    ACTIVITIES_FILE: ("Activity ID", "Opportunity ID", "Lead ID", "Type", "Owner"),
}
MONEY_COLUMNS: dict[str, str] = {
    LEADS_FILE: "Budget",
    OPPORTUNITIES_FILE: "Amount",
    HISTORY_FILE: "Amount",
}

# --- Label sets ----------------------------------------------------------------------------
#: Lead Status labels and the canonical stage each means (funnel.toml says the same).
LEAD_STATUSES: dict[str, str] = {
    "New": "prospecting",
    "Working": "qualification",
    "Nurture": "prospecting",
    "Qualified": "qualification",
    "Converted": "qualification",
    "Unqualified": "lost",
}
#: Opportunity stage labels in funnel order, and their canonical stages.
OPPORTUNITY_STAGES: dict[str, str] = {
    "Prospecting": "prospecting",
    "Qualification": "qualification",
    "Discovery Meeting": "meeting",
    "Proposal Sent": "proposal",
    "Negotiation": "negotiation",
    "Closed Won": "won",
    "Closed Lost": "lost",
    "Onboarding": "post_sale",
}
STAGE_LABELS: tuple[str, ...] = tuple(OPPORTUNITY_STAGES)
#: Labels of the unknown-stage dirt: deliberately mapped nowhere.
UNKNOWN_STAGE_LABELS: tuple[str, ...] = (
    "Stalled??",
    "On Hold (legacy)",
    "Pending Review",
    "Closed - Duplicate",
)
LEAD_SOURCES: tuple[str, ...] = (
    "Web",
    "Paid Search",
    "Referral",
    "Event",
    "Outbound",
    "Partner",
    "Webinar",
)
_SOURCE_SHARE = (0.27, 0.15, 0.12, 0.10, 0.17, 0.09, 0.10)
_SOURCE_CONVERSION = (0.38, 0.33, 0.62, 0.44, 0.32, 0.55, 0.40)
AUTHORITY_LABELS: tuple[str, ...] = (
    "Decision Maker",
    "Economic Buyer",
    "Influencer",
    "User",
    "None",
)
NEED_LABELS: tuple[str, ...] = ("High", "Medium", "Low", "None")
ACTIVITY_TYPES: tuple[str, ...] = ("Call", "Email", "Meeting", "Demo")
LOSS_REASONS: tuple[str, ...] = (
    "Price",
    "Competitor",
    "No Budget",
    "No Decision",
    "Timing",
    "Lost Contact",
    "Product Fit",
)
PIPELINES: tuple[str, ...] = ("New Business", "Expansion", "Renewal")
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP")
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
OWNERS: tuple[str, ...] = (
    "Maria Gonzalez",
    "James Whitfield",
    "Priya Raman",
    "Daniel Okafor",
    "Sophie Laurent",
    "Kevin O'Brien",
    "Aisha Bello",
    "Tomasz Nowak",
    "Emily Chen",
    "Marcus Reed",
    "Hannah Schmidt",
    "Diego Alvarez",
    "Rachel Goldberg",
    "Yuki Tanaka",
    "Olivia Brooks",
    "Samuel Mensah",
    "Chloe Dubois",
    "Nathan Price",
    "Fatima Zahra",
    "Lucas Ferreira",
    "Grace Kim",
    "Ethan Walsh",
    "Isabella Rossi",
    "Victor Petrov",
    "Megan Doyle",
)
_FIRST = _words(
    "james john robert michael william david richard joseph thomas charles mary patricia "
    "jennifer linda elizabeth barbara susan jessica sarah karen anna li wei carlos sofia "
    "ahmed fatima raj priya kenji yuki lars ingrid pierre camille marco giulia olga ivan "
    "noah emma liam olivia mateo lucia omar leila tom kate ben amy sam zoe"
)
_LAST = _words(
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez "
    "lopez wilson anderson thomas taylor moore jackson martin lee thompson white harris "
    "clark lewis walker hall allen young king wright scott green baker adams nelson hill "
    "campbell mitchell roberts carter phillips evans turner patel nguyen kim mueller rossi "
    "novak silva dubois jensen"
)
_COMPANY_PREFIX = _words(
    "Blue North Bright Iron Silver Red Green Summit Apex Clear Swift True Prime Nova Pine "
    "Harbor Stone Cedar Golden Quantum Vertex Orbit Polar Lumen Atlas Delta Echo Falcon "
    "Maple Oak Sky River Cobalt Amber Crimson Granite Willow Beacon Crest Union"
)
_COMPANY_CORE = _words(
    "wave field point bridge stack works logic path forge line gate scale core leaf peak "
    "ridge shift spark flow sight grid base mark labs ware"
)
_COMPANY_SUFFIX = (
    "Inc",
    "LLC",
    "Ltd",
    "Group",
    "Corp",
    "Systems",
    "Technologies",
    "Partners",
    "Holdings",
    "Solutions",
)
_TLDS = ("com", "com", "com", "io", "co", "net")

# --- Dirt ----------------------------------------------------------------------------------
REJECT_KINDS: tuple[str, ...] = (
    "duplicate_id",
    "exact_duplicate",
    "blank_required",
    "malformed_email",
    "malformed_phone",
    "unknown_stage",
    "negative_amount",
    "close_before_created",
    "future_date",
)
HYGIENE_KINDS: tuple[str, ...] = ("mixed_date_format", "whitespace", "mixed_case_email")
#: Share of each file's generated rows that gets each kind of dirt. The history's
#: unknown_stage is not drawn on its own: it is the last entry of each opportunity whose
#: Stage got an unknown label, so the current stage still equals the last history entry.
DIRT_RATES: dict[str, dict[str, float]] = {
    LEADS_FILE: {
        "duplicate_id": 0.002,
        "exact_duplicate": 0.001,
        "blank_required": 0.001,
        "malformed_email": 0.0015,
        "malformed_phone": 0.0015,
        "negative_amount": 0.0005,
        "future_date": 0.001,
        "mixed_date_format": 0.006,
        "whitespace": 0.0025,
        "mixed_case_email": 0.0025,
    },
    OPPORTUNITIES_FILE: {
        "duplicate_id": 0.002,
        "exact_duplicate": 0.001,
        "blank_required": 0.001,
        "unknown_stage": 0.0015,
        "negative_amount": 0.001,
        "close_before_created": 0.001,
        "future_date": 0.001,
        "mixed_date_format": 0.006,
        "whitespace": 0.0025,
    },
    HISTORY_FILE: {
        "exact_duplicate": 0.0015,
        "blank_required": 0.001,
        "negative_amount": 0.001,
        "future_date": 0.001,
        "mixed_date_format": 0.006,
        "whitespace": 0.0025,
    },
    ACTIVITIES_FILE: {
        "exact_duplicate": 0.0015,
        "blank_required": 0.0015,
        "future_date": 0.001,
        "mixed_date_format": 0.006,
        "whitespace": 0.0025,
    },
}
#: The dirt kinds each file gets (the manifest lists all of them, zero or not).
FILE_DIRT_KINDS: dict[str, tuple[str, ...]] = {
    f: tuple(k for k in (*REJECT_KINDS, *HYGIENE_KINDS) if k in rates)
    + (("unknown_stage",) if f == HISTORY_FILE else ())
    for f, rates in DIRT_RATES.items()
}

_DAY = 86_400
_HOUR = 3_600
#: Default probability (0-100) of each opportunity stage, in STAGE_LABELS order.
_STAGE_PROBABILITY = np.array([10, 20, 30, 50, 70, 100, 0, 100], dtype=np.int64)
_WON, _LOST, _POST = 5, 6, 7


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
    clock = _Clock(
        start=(end_day - WINDOW_DAYS) * _DAY,
        end=(end_day + 1) * _DAY - 1,
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
    rows[RATES_FILE] = _write_rates(out_dir / RATES_FILE, seed, clock)
    (out_dir / MANIFEST_FILE).write_text(
        json.dumps(summary.manifest(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return summary


# --- Generation ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Clock:
    """Epoch seconds of the first and last second of the window."""

    start: int
    end: int

    @property
    def end_day(self) -> int:
        return self.end // _DAY


def _chunk(
    rng: np.random.Generator, n: int, bases: Mapping[str, int], clock: _Clock
) -> tuple[dict[str, pl.DataFrame], dict[str, dict[str, int]], dict[str, int]]:
    """One chunk of `n` leads with their opportunities, history and activities, dirt included.

    `bases` holds the ids used by earlier chunks; returns the frames, the dirt counts and the
    number of ids this chunk used per file.
    """
    leads = _draw_leads(rng, n, clock)
    opps = _draw_opportunities(rng, leads, clock)
    hist = _draw_history(opps)
    acts = _draw_activities(rng, leads, opps, clock)

    lead_ids = _ids("LD-", bases[LEADS_FILE], n, 8)
    opp_ids = _ids("OP-", bases[OPPORTUNITIES_FILE], len(opps["t0"]), 8)
    act_ids = _ids("AC-", bases[ACTIVITIES_FILE], len(acts["ts"]), 9)

    lead_frame = _lead_frame(rng, leads, lead_ids)
    opp_frame = _opportunity_frame(opps, opp_ids, lead_ids)
    hist_frame = pl.DataFrame(
        {
            "Opportunity ID": opp_ids.gather(hist["opp"]),
            "Stage": _labels(STAGE_LABELS, hist["stage"]),
            "Changed At": _fmt_ts(hist["ts"]),
            "Amount": _fmt_money(hist["amount"]),
        }
    )
    act_frame = pl.DataFrame(
        {
            "Activity ID": act_ids,
            "Opportunity ID": opp_ids.gather(_nullable(acts["opp"])),
            "Lead ID": lead_ids.gather(_nullable(acts["lead"])),
            "Type": _labels(ACTIVITY_TYPES, acts["type"]),
            "Occurred At": _fmt_ts(acts["ts"]),
            "Owner": _labels(OWNERS, acts["owner"]),
        }
    )

    frames: dict[str, pl.DataFrame] = {}
    counts: dict[str, dict[str, int]] = {}
    frames[LEADS_FILE], counts[LEADS_FILE] = _dirty_leads(rng, lead_frame, leads)
    frames[OPPORTUNITIES_FILE], counts[OPPORTUNITIES_FILE], unknown = _dirty_opportunities(
        rng, opp_frame, opps
    )
    frames[HISTORY_FILE], counts[HISTORY_FILE] = _dirty_history(rng, hist_frame, hist, unknown)
    frames[ACTIVITIES_FILE], counts[ACTIVITIES_FILE] = _dirty_activities(rng, act_frame)
    sizes = {
        LEADS_FILE: n,
        OPPORTUNITIES_FILE: len(opps["t0"]),
        HISTORY_FILE: len(hist["ts"]),
        ACTIVITIES_FILE: len(acts["ts"]),
    }
    return frames, counts, sizes


def _write_rates(path: Path, seed: int, clock: _Clock) -> int:
    """Euro reference rates of every business day of the window (not 1 January, 1 May, 25 and
    26 December), newest first, in the ECB's layout; returns the data rows written."""
    first, last = clock.start // _DAY, clock.end_day
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


def _business_time(rng: np.random.Generator, n: int) -> Arr:
    """Seconds into the day: mostly office hours, some at any time."""
    office = 8 * _HOUR + rng.integers(0, 10 * _HOUR, n)
    anytime = rng.integers(0, _DAY, n)
    return np.where(rng.random(n) < 0.85, office, anytime)


def _lognormal_seconds(rng: np.random.Generator, median_days: float, sigma: float, n: int) -> Arr:
    return (rng.lognormal(np.log(median_days * _DAY), sigma, n)).astype(np.int64)


def _draw_leads(rng: np.random.Generator, n: int, clock: _Clock) -> dict[str, Arr]:
    """Lead attributes as arrays; leads ordered by creation."""
    # Creation: density growing linearly by 60 % over the window, office hours.
    a = 0.6
    u = rng.random(n)
    x = (np.sqrt(1 + 2 * a * u * (1 + a / 2)) - 1) / a
    day = np.minimum((x * (WINDOW_DAYS + 1)).astype(np.int64), WINDOW_DAYS)
    created = np.sort(np.minimum(clock.start + day * _DAY + _business_time(rng, n), clock.end))

    source = rng.choice(len(LEAD_SOURCES), n, p=_SOURCE_SHARE)
    conv_p = np.asarray(_SOURCE_CONVERSION)[source]
    converted_ts = created + _lognormal_seconds(rng, 6, 1.0, n) + 1_800
    converted = (rng.random(n) < conv_p) & (converted_ts <= clock.end)
    converted_ts = np.where(converted, converted_ts, -1)

    # Last Modified: conversion is a converted lead's last touch; others keep being worked.
    base = np.where(converted, converted_ts, created)
    touch = np.where(converted, rng.integers(0, 600, n), _lognormal_seconds(rng, 5, 1.2, n))
    modified = np.minimum(base + touch, clock.end)

    age = clock.end - created
    recent = age < 21 * _DAY
    status_recent = rng.choice(4, n, p=(0.45, 0.45, 0.0, 0.10))
    status_old = rng.choice(6, n, p=(0.04, 0.12, 0.34, 0.05, 0.0, 0.45))
    status_conv = np.where(rng.random(n) < 0.7, 4, 3)
    # indexes into LEAD_STATUSES: New, Working, Nurture, Qualified, Converted, Unqualified
    status = np.where(converted, status_conv, np.where(recent, status_recent, status_old))

    authority = np.where(
        converted,
        rng.choice(5, n, p=(0.35, 0.20, 0.25, 0.12, 0.08)),
        rng.choice(5, n, p=(0.15, 0.08, 0.30, 0.27, 0.20)),
    )
    need = np.where(
        converted,
        rng.choice(4, n, p=(0.45, 0.35, 0.15, 0.05)),
        rng.choice(4, n, p=(0.15, 0.30, 0.35, 0.20)),
    )
    budget = np.where(
        converted,
        rng.lognormal(np.log(25_000), 0.9, n),
        rng.lognormal(np.log(12_000), 1.0, n),
    )
    budget = (np.clip(budget, 500, 500_000) / 500).round().astype(np.int64) * 500

    # Timeline: the expected purchase date, after creation (a plan: it may lie after end_date).
    created_day = created // _DAY
    horizon = np.minimum(rng.lognormal(np.log(75), 0.7, n), 365).astype(np.int64)
    timeline = created_day + horizon

    return {
        "created": created,
        "source": source,
        "converted": converted,
        "converted_ts": converted_ts,
        "modified": modified,
        "status": status,
        "owner": rng.integers(0, len(OWNERS), n),
        "company": rng.integers(0, len(_company_pool()[0]), n),
        "authority": authority,
        "has_authority": rng.random(n) >= 0.10,
        "need": need,
        "has_need": rng.random(n) >= 0.10,
        "budget": budget,
        "has_budget": rng.random(n) >= 0.25,
        "timeline": timeline,
        "has_timeline": rng.random(n) >= 0.15,
    }


def _draw_opportunities(
    rng: np.random.Generator, leads: dict[str, Arr], clock: _Clock
) -> dict[str, Arr]:
    """Opportunities (from converted leads, plus ~5 % standalone) and their stage paths.

    A path is 8 slots: the five open stages in order (each between the start and the highest
    stage reached is kept with p 0.8, so stages get skipped), one step back from the highest
    stage (~9 %), the close (won or lost; none for deals that stall) and Onboarding after some
    wins. Slots after end_date have not happened yet: those deals are still open.
    """
    conv_leads = np.flatnonzero(leads["converted"])
    n_alone = int(rng.binomial(len(conv_leads), 0.05 / 0.95)) if len(conv_leads) else 0
    alone_t0 = np.minimum(
        clock.start
        + rng.integers(0, WINDOW_DAYS + 1, n_alone) * _DAY
        + _business_time(rng, n_alone),
        clock.end,
    )
    t0 = np.concatenate([leads["converted_ts"][conv_leads], alone_t0])
    lead = np.concatenate([conv_leads, np.full(n_alone, -1, dtype=np.int64)])
    order = np.argsort(t0, kind="stable")
    t0, lead = t0[order], lead[order]
    m = len(t0)
    alone = lead < 0
    ar = np.arange(m)

    outcome = rng.choice(3, m, p=(0.28, 0.62, 0.10))  # won, lost, stalls open
    s0 = np.where(alone, rng.random(m) < 0.3, 1 + (rng.random(m) < 0.3)).astype(np.int64)
    top = np.where(
        outcome == 0,
        np.where(rng.random(m) < 0.35, 3, 4),
        rng.choice(5, m, p=(0.28, 0.26, 0.20, 0.15, 0.11)),
    )
    top = np.maximum(top, s0)
    j = np.arange(5)
    forward = (
        (j == s0[:, None])
        | (j == top[:, None])
        | ((j > s0[:, None]) & (j < top[:, None]) & (rng.random((m, 5)) < 0.8))
    )
    back = (rng.random(m) < 0.09) & (top >= 1)

    stage = np.empty((m, 8), dtype=np.int64)
    stage[:, :5] = j
    stage[:, 5] = top - 1
    stage[:, 6] = np.where(outcome == 0, _WON, _LOST)
    stage[:, 7] = _POST
    present = np.zeros((m, 8), dtype=bool)
    present[:, :5] = forward
    present[:, 5] = back
    present[:, 6] = outcome < 2
    present[:, 7] = (outcome == 0) & (rng.random(m) < 0.5)

    gaps = np.empty((m, 8), dtype=np.int64)
    gaps[:, :6] = rng.lognormal(np.log(8 * _DAY), 0.8, (m, 6)).astype(np.int64)
    gaps[:, 6] = _lognormal_seconds(rng, 12, 0.9, m)
    gaps[:, 7] = _lognormal_seconds(rng, 4, 0.6, m)
    gaps += _HOUR
    gaps[ar, s0] = 0
    gaps *= present
    at = t0[:, None] + np.cumsum(gaps, axis=1)
    keep = present & (at <= clock.end)

    last = 7 - np.argmax(keep[:, ::-1], axis=1)
    before = keep.copy()
    before[ar, last] = False
    has_prev = before.any(axis=1)
    prev = 7 - np.argmax(before[:, ::-1], axis=1)
    current = stage[ar, last]
    last_ts = at[ar, last]
    closed = keep[:, 6]
    close_ts = np.where(closed, at[:, 6], -1)

    # Amounts: an estimate that moves along the path; a quarter of lost deals end at 0.
    estimate = np.clip(rng.lognormal(np.log(12_000), 1.1, m), 300, 200_000).round()
    factor = np.where(rng.random((m, 8)) < 0.6, 1.0, rng.uniform(0.7, 1.3, (m, 8)))
    factor[ar, last] = 1.0
    slot_amount = np.clip(estimate[:, None] * factor, 300, None).round().astype(np.int64)
    amount = np.where((current == _LOST) & (rng.random(m) < 0.25), 0, slot_amount[ar, last]).astype(
        np.int64
    )
    slot_amount[ar, last] = amount

    modified = last_ts + np.minimum(_lognormal_seconds(rng, 1, 1.0, m), clock.end - last_ts)
    planned = np.where(outcome == 2, t0 + _lognormal_seconds(rng, 60, 0.5, m), at[:, 6])
    expected_ts = np.where(closed, close_ts + rng.normal(0, 10 * _DAY, m).astype(np.int64), planned)
    # Open deals plan to close after end_date too (the forecast needs future months).
    latest = np.where(closed, clock.end_day, clock.end_day + 365)
    expected = np.clip(expected_ts // _DAY, t0 // _DAY, latest)

    probability = _STAGE_PROBABILITY[current]
    jitter = rng.choice(np.array([-10, -5, 0, 0, 0, 5, 10]), m)
    probability = np.where(current < _WON, np.clip(probability + jitter, 5, 95), probability)

    lead_owner = leads["owner"][np.maximum(lead, 0)]
    owner = np.where(~alone & (rng.random(m) < 0.8), lead_owner, rng.integers(0, len(OWNERS), m))
    account = np.where(
        alone, rng.integers(0, len(_company_pool()[0]), m), leads["company"][np.maximum(lead, 0)]
    )
    pipeline = np.where(
        alone,
        rng.choice(3, m, p=(0.30, 0.40, 0.30)),
        rng.choice(3, m, p=(0.85, 0.10, 0.05)),
    )
    return {
        "t0": t0,
        "lead": lead,
        "stage": stage,
        "keep": keep,
        "at": at,
        "slot_amount": slot_amount,
        "last": last,
        "has_prev": has_prev,
        "prev": prev,
        "current": current,
        "close_ts": close_ts,
        "amount": amount,
        "modified": modified,
        "expected": expected,
        "probability": probability,
        "has_probability": rng.random(m) >= 0.08,
        "owner": owner,
        "account": account,
        "currency": rng.choice(3, m, p=(0.92, 0.05, 0.03)),
        "loss_reason": rng.integers(0, len(LOSS_REASONS), m),
        "has_loss_reason": (current == _LOST) & (rng.random(m) >= 0.10),
        "pipeline": pipeline,
    }


def _draw_history(opps: dict[str, Arr]) -> dict[str, Arr]:
    """One row per kept path slot, ordered by opportunity, then time."""
    keep = opps["keep"]
    opp, slot = np.nonzero(keep)
    return {
        "opp": opp,
        "stage": opps["stage"][keep],
        "ts": opps["at"][keep],
        "amount": opps["slot_amount"][keep],
        "is_last": slot == opps["last"][opp],
    }


def _draw_activities(
    rng: np.random.Generator, leads: dict[str, Arr], opps: dict[str, Arr], clock: _Clock
) -> dict[str, Arr]:
    """2-4 per opportunity, 0-3 per unconverted lead, within the record's life; by time."""
    m = len(opps["t0"])
    per_opp = rng.integers(2, 5, m)
    o = np.repeat(np.arange(m), per_opp)
    o_start, o_end = opps["t0"][o], opps["modified"][o]
    o_ts = o_start + (rng.random(len(o)) * (o_end - o_start + 1)).astype(np.int64)
    o_type = rng.choice(4, len(o), p=(0.30, 0.35, 0.20, 0.15))
    o_owner = np.where(
        rng.random(len(o)) < 0.9, opps["owner"][o], rng.integers(0, len(OWNERS), len(o))
    )

    open_leads = np.flatnonzero(~leads["converted"])
    per_lead = rng.choice(4, len(open_leads), p=(0.20, 0.35, 0.30, 0.15))
    ld = np.repeat(open_leads, per_lead)
    l_start, l_end = leads["created"][ld], leads["modified"][ld]
    l_ts = l_start + (rng.random(len(ld)) * (l_end - l_start + 1)).astype(np.int64)
    l_type = rng.choice(4, len(ld), p=(0.45, 0.50, 0.04, 0.01))
    l_owner = np.where(
        rng.random(len(ld)) < 0.9, leads["owner"][ld], rng.integers(0, len(OWNERS), len(ld))
    )

    ts = np.minimum(np.concatenate([o_ts, l_ts]), clock.end)
    order = np.argsort(ts, kind="stable")
    return {
        "ts": ts[order],
        "opp": np.concatenate([o, np.full(len(ld), -1)])[order],
        "lead": np.concatenate([np.full(len(o), -1), ld])[order],
        "type": np.concatenate([o_type, l_type])[order],
        "owner": np.concatenate([o_owner, l_owner])[order],
    }


# --- Text ----------------------------------------------------------------------------------
_POOL: list[tuple[pl.Series, pl.Series]] = []


def _company_pool() -> tuple[pl.Series, pl.Series]:
    """Company names and their email domains (a fixed list of 10,000)."""
    if not _POOL:
        names: list[str] = []
        domains: list[str] = []
        for k, (p, c) in enumerate(itertools.product(_COMPANY_PREFIX, _COMPANY_CORE)):
            for s in range(10):
                suffix = _COMPANY_SUFFIX[(k * 7 + s * 3) % len(_COMPANY_SUFFIX)]
                tld = _TLDS[(k + s) % len(_TLDS)]
                names.append(f"{p}{c} {suffix}")
                domains.append(f"{p.lower()}{c}{suffix.lower() if s % 2 else ''}.{tld}")
        _POOL.append((pl.Series(names), pl.Series(domains)))
    return _POOL[0]


def _labels(labels: Sequence[str], idx: Arr, valid: Arr | None = None) -> pl.Series:
    """Labels by index; null where `valid` is False."""
    if valid is not None:
        return pl.Series(labels).gather(_nullable(np.where(valid, idx, -1)))
    return pl.Series(labels).gather(idx)


def _nullable(idx: Arr) -> pl.Series:
    """Indexes for gather, with -1 as null."""
    s = pl.Series(idx, dtype=pl.Int64)
    return s.set(s < 0, None)


def _ids(prefix: str, base: int, n: int, width: int) -> pl.Series:
    numbers = pl.Series(np.arange(base + 1, base + n + 1, dtype=np.int64))
    return (prefix + numbers.cast(pl.String).str.zfill(width)).alias("id")


def _fmt_ts(seconds: Arr, valid: Arr | None = None) -> pl.Series:
    """Epoch seconds -> 'YYYY-MM-DD HH:MM:SS' (null where not valid or negative)."""
    s = pl.Series(seconds, dtype=pl.Int64)
    out = pl.from_epoch(s, time_unit="s").dt.strftime(TIMESTAMP_FORMAT)
    mask = s < 0 if valid is None else (s < 0) | pl.Series(~valid)
    return out.set(mask, None)


def _fmt_date(days: Arr, valid: Arr | None = None) -> pl.Series:
    s = pl.Series(days, dtype=pl.Int64)
    out = s.cast(pl.Int32).cast(pl.Date).dt.strftime(DATE_FORMAT)
    return out if valid is None else out.set(pl.Series(~valid), None)


def _fmt_money(dollars: Arr, valid: Arr | None = None) -> pl.Series:
    """Whole dollars -> '12450.00'."""
    out = pl.Series(dollars, dtype=pl.Int64).cast(pl.String) + ".00"
    return out if valid is None else out.set(pl.Series(~valid), None)


def _lead_frame(
    rng: np.random.Generator, leads: dict[str, Arr], lead_ids: pl.Series
) -> pl.DataFrame:
    n = len(lead_ids)
    names, domains = _company_pool()
    first = pl.Series(_FIRST).gather(rng.integers(0, len(_FIRST), n))
    last = pl.Series(_LAST).gather(rng.integers(0, len(_LAST), n))
    style = pl.Series(rng.choice(4, n, p=(0.5, 0.2, 0.2, 0.1)))
    digit = pl.Series(rng.integers(1, 100, n)).cast(pl.String)
    with_digit = pl.Series(rng.random(n) < 0.08)
    phone_style = pl.Series(rng.integers(0, 5, n))
    area = pl.Series(rng.integers(201, 990, n)).cast(pl.String)
    exchange = pl.Series(rng.integers(200, 1000, n)).cast(pl.String)
    line = pl.Series(rng.integers(0, 10_000, n)).cast(pl.String).str.zfill(4)
    contact = pl.DataFrame(
        {
            "f": first,
            "l": last,
            "style": style,
            "digit": digit,
            "with_digit": with_digit,
            "domain": domains.gather(leads["company"]),
            "has_email": rng.random(n) >= 0.05,
            "ps": phone_style,
            "a": area,
            "e": exchange,
            "n": line,
            "has_phone": rng.random(n) >= 0.12,
        }
    )
    f, lc, a, e, ln = pl.col("f"), pl.col("l"), pl.col("a"), pl.col("e"), pl.col("n")
    local = (
        pl.when(pl.col("style") == 0)
        .then(pl.concat_str([f, lc], separator="."))
        .when(pl.col("style") == 1)
        .then(f + lc)
        .when(pl.col("style") == 2)
        .then(f.str.slice(0, 1) + lc)
        .otherwise(f)
    )
    local = pl.when(pl.col("with_digit")).then(local + pl.col("digit")).otherwise(local)
    email = pl.when(pl.col("has_email")).then(local + "@" + pl.col("domain"))
    phone = pl.when(pl.col("has_phone")).then(
        pl.when(pl.col("ps") == 0)
        .then(pl.format("+1 ({}) {}-{}", a, e, ln))
        .when(pl.col("ps") == 1)
        .then(pl.format("({}) {}-{}", a, e, ln))
        .when(pl.col("ps") == 2)
        .then(pl.format("{}-{}-{}", a, e, ln))
        .when(pl.col("ps") == 3)
        .then(pl.format("+1 {} {} {}", a, e, ln))
        .otherwise(pl.format("{}.{}.{}", a, e, ln))
    )
    text = contact.select(email.alias("Email"), phone.alias("Phone"))
    return pl.DataFrame(
        {
            "Lead ID": lead_ids,
            "Created Date": _fmt_ts(leads["created"]),
            "Email": text.get_column("Email"),
            "Phone": text.get_column("Phone"),
            "Company": names.gather(leads["company"]),
            "Lead Source": _labels(LEAD_SOURCES, leads["source"]),
            "Lead Owner": _labels(OWNERS, leads["owner"]),
            "Lead Status": _labels(tuple(LEAD_STATUSES), leads["status"]),
            "Budget": _fmt_money(leads["budget"], leads["has_budget"]),
            "Authority": _labels(AUTHORITY_LABELS, leads["authority"], leads["has_authority"]),
            "Need": _labels(NEED_LABELS, leads["need"], leads["has_need"]),
            "Timeline": _fmt_date(leads["timeline"], leads["has_timeline"]),
            "Converted Date": _fmt_ts(leads["converted_ts"]),
            "Last Modified Date": _fmt_ts(leads["modified"]),
        }
    )


def _opportunity_frame(
    opps: dict[str, Arr], opp_ids: pl.Series, lead_ids: pl.Series
) -> pl.DataFrame:
    names, _ = _company_pool()
    return pl.DataFrame(
        {
            "Opportunity ID": opp_ids,
            "Lead ID": lead_ids.gather(_nullable(opps["lead"])),
            "Account Name": names.gather(opps["account"]),
            "Opportunity Owner": _labels(OWNERS, opps["owner"]),
            "Stage": _labels(STAGE_LABELS, opps["current"]),
            "Amount": _fmt_money(opps["amount"]),
            "Currency": _labels(CURRENCIES, opps["currency"]),
            "Created Date": _fmt_ts(opps["t0"]),
            "Expected Close Date": _fmt_date(opps["expected"]),
            "Close Date": _fmt_ts(opps["close_ts"]),
            "Probability": pl.Series(opps["probability"], dtype=pl.Int64)
            .cast(pl.String)
            .set(pl.Series(~opps["has_probability"]), None),
            "Loss Reason": _labels(LOSS_REASONS, opps["loss_reason"], opps["has_loss_reason"]),
            "Pipeline": _labels(PIPELINES, opps["pipeline"]),
            "Last Modified Date": _fmt_ts(opps["modified"]),
        }
    )


# --- Dirt ----------------------------------------------------------------------------------
def _how_many(rate: float, rows: int) -> int:
    """Rows of a dirt kind: the rate's share, and at least one in any file of 100+ rows."""
    k = round(rate * rows)
    return max(k, 1) if rows >= 100 else k


class _Dirt:
    """Injects dirt into one file's frame of one chunk and counts it.

    Rejection kinds go to disjoint rows (each dirty row carries one reason). Extra rows
    (older copies, copies without id) are placed at random positions; exact duplicates right
    after their original; hygiene goes anywhere, exact copies inherit it.
    """

    def __init__(self, rng: np.random.Generator, frame: pl.DataFrame, file: str) -> None:
        self.rng = rng
        self.frame = frame
        self.file = file
        self.n = frame.height
        self.rates = DIRT_RATES[file]
        self.counts = dict.fromkeys(FILE_DIRT_KINDS[file], 0)
        self.order = rng.permutation(self.n)
        self.free = np.ones(self.n, dtype=bool)
        self.keys = np.arange(self.n, dtype=np.int64) * 3 + 1
        self.extra: list[pl.DataFrame] = []
        self.extra_keys: list[Arr] = []

    def quota(self, kind: str) -> int:
        return _how_many(self.rates.get(kind, 0.0), self.n)

    def take(self, kind: str, cond: Arr | None = None, k: int | None = None) -> Arr:
        """`k` free rows (default: the kind's quota) where `cond`, sorted; marks them used."""
        k = self.quota(kind) if k is None else k
        ok = self.free[self.order]
        if cond is not None:
            ok &= cond[self.order]
        idx = np.sort(self.order[ok][:k])
        self.free[idx] = False
        return idx

    def set(self, column: str, idx: Arr, fn: Callable[[pl.Series], pl.Series]) -> None:
        """Rewrite `column` at rows `idx` with `fn` of the old values."""
        if len(idx):
            col = self.frame.get_column(column)
            self.frame = self.frame.with_columns(col.scatter(idx, fn(col.gather(idx))))

    def blank(self, column: str, idx: Arr) -> None:
        self.set(column, idx, lambda s: pl.Series([None] * len(s), dtype=pl.String))

    def count(self, kind: str, rows: int) -> None:
        self.counts[kind] += rows

    def add_rows(self, rows: pl.DataFrame) -> None:
        """Extra rows at random positions."""
        if rows.height:
            self.extra.append(rows.select(self.frame.columns))
            self.extra_keys.append(self.rng.integers(0, max(self.n, 1), rows.height) * 3)

    def finish(self) -> tuple[pl.DataFrame, dict[str, int]]:
        """Hygiene, exact duplicates, then the rows in their final order."""
        frame = pl.concat([self.frame, *self.extra]) if self.extra else self.frame
        keys = np.concatenate([self.keys, *self.extra_keys])
        total = frame.height
        marks: dict[str, Arr] = {}

        # Mixed date formats: one non-empty date cell per chosen row.
        cols = DATE_COLUMNS[self.file]
        rows, which = self._cells(frame, cols, _how_many(self.rates["mixed_date_format"], total))
        for c_i, c in enumerate(cols):
            idx = rows[which == c_i]
            if len(idx):
                col = frame.get_column(c)
                us = col.gather(idx).str.replace(r"^(\d{4})-(\d{2})-(\d{2})", "${2}/${3}/${1}")
                frame = frame.with_columns(col.scatter(idx, us))
        marks["mixed_date_format"] = rows

        # White space around one non-empty text cell per chosen row.
        cols = TEXT_COLUMNS[self.file]
        rows, which = self._cells(frame, cols, _how_many(self.rates["whitespace"], total))
        pads = (("  ", ""), ("", " "), (" ", " "), (" ", ""), ("", "  "))
        pad = self.rng.integers(0, len(pads), len(rows))
        for c_i, c in enumerate(cols):
            sel = which == c_i
            idx = rows[sel]
            if len(idx):
                col = frame.get_column(c)
                front = pl.Series([pads[p][0] for p in range(len(pads))]).gather(pad[sel])
                back = pl.Series([pads[p][1] for p in range(len(pads))]).gather(pad[sel])
                frame = frame.with_columns(col.scatter(idx, front + col.gather(idx) + back))
        marks["whitespace"] = rows

        if "mixed_case_email" in self.rates:
            has = frame.get_column("Email").is_not_null().to_numpy()
            pool = np.flatnonzero(has)
            k = min(_how_many(self.rates["mixed_case_email"], total), len(pool))
            rows = np.sort(self.rng.choice(pool, k, replace=False))
            upper = pl.Series(self.rng.random(k) < 0.3)
            col = frame.get_column("Email")
            old = pl.DataFrame({"e": col.gather(rows), "u": upper})
            cased = old.select(
                pl.when("u")
                .then(pl.col("e").str.to_uppercase())
                .otherwise(pl.col("e").str.to_titlecase())
            ).to_series()
            frame = frame.with_columns(col.scatter(rows, cased))
            marks["mixed_case_email"] = rows

        # Exact duplicates of clean original rows, right after them.
        src = self.take("exact_duplicate")
        self.count("exact_duplicate", len(src))
        for kind, rows in marks.items():
            mask = np.zeros(total, dtype=bool)
            mask[rows] = True
            self.count(kind, int(mask.sum() + mask[src].sum()))
        frame = pl.concat([frame, frame[src]])
        keys = np.concatenate([keys, self.keys[src] + 1])
        out = frame.with_columns(_key=pl.Series(keys)).sort("_key", maintain_order=True)
        return out.drop("_key"), self.counts

    def _cells(self, frame: pl.DataFrame, cols: Sequence[str], k: int) -> tuple[Arr, Arr]:
        """`k` rows that have a non-empty cell in `cols`, and one such column for each."""
        filled = np.column_stack([frame.get_column(c).is_not_null().to_numpy() for c in cols])
        pool = np.flatnonzero(filled.any(axis=1))
        rows = np.sort(self.rng.choice(pool, min(k, len(pool)), replace=False))
        score = self.rng.random((len(rows), len(cols))) * filled[rows]
        return rows, np.argmax(score, axis=1)


def _to_future(s: pl.Series) -> pl.Series:
    return s.str.replace(r"^\d{4}", str(FUTURE_YEAR)).str.replace(
        f"{FUTURE_YEAR}-02-29", f"{FUTURE_YEAR}-02-28", literal=True
    )


def _dirty_leads(
    rng: np.random.Generator, frame: pl.DataFrame, leads: dict[str, Arr]
) -> tuple[pl.DataFrame, dict[str, int]]:
    d = _Dirt(rng, frame, LEADS_FILE)
    has_email = frame.get_column("Email").is_not_null().to_numpy()

    idx = d.take("malformed_email", has_email)
    variant = pl.Series(rng.integers(0, 3, len(idx)))

    def malformed(s: pl.Series) -> pl.Series:
        return (
            pl.DataFrame({"e": s, "v": variant})
            .select(
                pl.when(pl.col("v") == 0)
                .then(pl.col("e").str.replace(r"@.*$", "@"))  # john.doe@
                .when(pl.col("v") == 1)
                .then(pl.col("e").str.replace("@", "", literal=True))  # no at sign
                .otherwise(pl.col("e").str.replace(r"\.[a-z]+$", ""))  # no top-level domain
            )
            .to_series()
        )

    d.set("Email", idx, malformed)
    d.count("malformed_email", len(idx))

    idx = d.take("malformed_phone")
    bad_phones = pl.Series(["12", "call me", "555", "123-45", "ask reception"])
    d.set("Phone", idx, lambda s: bad_phones.gather(rng.integers(0, 5, len(s))))
    d.count("malformed_phone", len(idx))

    idx = d.take("negative_amount", leads["has_budget"])
    d.set("Budget", idx, lambda s: "-" + s)
    d.count("negative_amount", len(idx))

    idx = d.take("future_date", ~leads["converted"])
    d.set("Created Date", idx, _to_future)
    d.count("future_date", len(idx))

    # Blank required fields: half a blank Created Date, half a stray copy without Lead ID.
    k = d.quota("blank_required")
    idx = d.take("blank_required", k=(k + 1) // 2)
    d.blank("Created Date", idx)
    src = d.take("blank_required", k=k // 2)
    d.add_rows(frame[src].with_columns(pl.lit(None, dtype=pl.String).alias("Lead ID")))
    d.count("blank_required", len(idx) + len(src))

    # Older copies: before conversion (or earlier in the lead's life), earlier Last Modified.
    span = leads["modified"] - leads["created"]
    src = d.take("duplicate_id", span >= 2 * _HOUR)
    when = leads["created"][src] + (rng.uniform(0.1, 0.9, len(src)) * span[src]).astype(np.int64)
    older_status = np.where(leads["converted"][src], 1, 0)  # Working, New
    d.add_rows(
        frame[src].with_columns(
            _labels(tuple(LEAD_STATUSES), older_status).alias("Lead Status"),
            pl.lit(None, dtype=pl.String).alias("Converted Date"),
            _fmt_ts(when).alias("Last Modified Date"),
        )
    )
    d.count("duplicate_id", len(src))
    return d.finish()


def _dirty_opportunities(
    rng: np.random.Generator, frame: pl.DataFrame, opps: dict[str, Arr]
) -> tuple[pl.DataFrame, dict[str, int], tuple[Arr, pl.Series]]:
    """Also returns the opportunities given an unknown stage, and that label."""
    d = _Dirt(rng, frame, OPPORTUNITIES_FILE)
    closed = opps["close_ts"] >= 0

    unknown = d.take("unknown_stage")
    labels = pl.Series(UNKNOWN_STAGE_LABELS).gather(
        rng.integers(0, len(UNKNOWN_STAGE_LABELS), len(unknown))
    )
    d.set("Stage", unknown, lambda _: labels)
    d.count("unknown_stage", len(unknown))

    idx = d.take("negative_amount", opps["amount"] > 0)
    d.set("Amount", idx, lambda s: "-" + s)
    d.count("negative_amount", len(idx))

    idx = d.take("close_before_created", closed)
    early = opps["t0"][idx] - rng.integers(_DAY, 30 * _DAY, len(idx))
    d.set("Close Date", idx, lambda _: _fmt_ts(early))
    d.count("close_before_created", len(idx))

    idx = d.take("future_date", closed)
    d.set("Close Date", idx, _to_future)
    d.count("future_date", len(idx))

    k = d.quota("blank_required")
    idx = d.take("blank_required", k=(k + 1) // 2)
    d.blank("Stage", idx)
    src = d.take("blank_required", k=k // 2)
    d.add_rows(frame[src].with_columns(pl.lit(None, dtype=pl.String).alias("Opportunity ID")))
    d.count("blank_required", len(idx) + len(src))

    # Older copies: the opportunity as it was at its previous stage.
    src = d.take("duplicate_id", opps["has_prev"])
    prev = opps["prev"][src]
    prev_stage = opps["stage"][src, prev]
    prev_ts = opps["at"][src, prev]
    last_ts = opps["at"][src, opps["last"][src]]
    when = prev_ts + (rng.uniform(0.0, 0.5, len(src)) * (last_ts - prev_ts)).astype(np.int64)
    prev_closed = prev_stage >= _WON
    d.add_rows(
        frame[src].with_columns(
            _labels(STAGE_LABELS, prev_stage).alias("Stage"),
            _fmt_money(opps["slot_amount"][src, prev]).alias("Amount"),
            _fmt_ts(np.where(prev_closed, opps["close_ts"][src], -1)).alias("Close Date"),
            pl.Series(_STAGE_PROBABILITY[prev_stage]).cast(pl.String).alias("Probability"),
            pl.lit(None, dtype=pl.String).alias("Loss Reason"),
            _fmt_ts(when).alias("Last Modified Date"),
        )
    )
    d.count("duplicate_id", len(src))
    out, counts = d.finish()
    return out, counts, (unknown, labels)


def _dirty_history(
    rng: np.random.Generator,
    frame: pl.DataFrame,
    hist: dict[str, Arr],
    unknown: tuple[Arr, pl.Series],
) -> tuple[pl.DataFrame, dict[str, int]]:
    d = _Dirt(rng, frame, HISTORY_FILE)
    # The last entry of each opportunity whose Stage is unknown carries the same label.
    opp_unknown, labels = unknown
    last_rows = np.flatnonzero(hist["is_last"])
    rows = last_rows[opp_unknown]  # one last row per opportunity, in opportunity order
    d.free[rows] = False
    d.set("Stage", rows, lambda _: labels)
    d.count("unknown_stage", len(rows))

    idx = d.take("negative_amount", hist["amount"] > 0)
    d.set("Amount", idx, lambda s: "-" + s)
    d.count("negative_amount", len(idx))

    idx = d.take("future_date", hist["is_last"])
    d.set("Changed At", idx, _to_future)
    d.count("future_date", len(idx))

    # Blank Stage or Changed At, never on the last entry (it is the opportunity's Stage).
    k = d.quota("blank_required")
    a = d.take("blank_required", ~hist["is_last"], k=(k + 1) // 2)
    d.blank("Stage", a)
    b = d.take("blank_required", ~hist["is_last"], k=k // 2)
    d.blank("Changed At", b)
    d.count("blank_required", len(a) + len(b))
    return d.finish()


def _dirty_activities(
    rng: np.random.Generator, frame: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, int]]:
    d = _Dirt(rng, frame, ACTIVITIES_FILE)
    idx = d.take("future_date")
    d.set("Occurred At", idx, _to_future)
    d.count("future_date", len(idx))

    k = d.quota("blank_required")
    a = d.take("blank_required", k=(k + 1) // 2)
    d.blank("Activity ID", a)
    b = d.take("blank_required", k=k // 2)
    d.blank("Occurred At", b)
    d.count("blank_required", len(a) + len(b))
    return d.finish()
