"""Dirt injected into each file: kinds, rates, and the rows that carry them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from funnel.sample.frames import fmt_money, fmt_ts, label_series
from funnel.sample.labels import (
    LEAD_STATUSES,
    STAGE_LABELS,
    STAGE_PROBABILITY,
    UNKNOWN_STAGE_LABELS,
    WON,
)
from funnel.sample.layout import (
    ACTIVITIES_FILE,
    DATE_COLUMNS,
    DAY,
    FUTURE_YEAR,
    HISTORY_FILE,
    HOUR,
    LEADS_FILE,
    OPPORTUNITIES_FILE,
    TEXT_COLUMNS,
    Arr,
)

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


def dirty_leads(
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
    src = d.take("duplicate_id", span >= 2 * HOUR)
    when = leads["created"][src] + (rng.uniform(0.1, 0.9, len(src)) * span[src]).astype(np.int64)
    older_status = np.where(leads["converted"][src], 1, 0)  # Working, New
    d.add_rows(
        frame[src].with_columns(
            label_series(tuple(LEAD_STATUSES), older_status).alias("Lead Status"),
            pl.lit(None, dtype=pl.String).alias("Converted Date"),
            fmt_ts(when).alias("Last Modified Date"),
        )
    )
    d.count("duplicate_id", len(src))
    return d.finish()


def dirty_opportunities(
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
    early = opps["t0"][idx] - rng.integers(DAY, 30 * DAY, len(idx))
    d.set("Close Date", idx, lambda _: fmt_ts(early))
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
    prev_closed = prev_stage >= WON
    d.add_rows(
        frame[src].with_columns(
            label_series(STAGE_LABELS, prev_stage).alias("Stage"),
            fmt_money(opps["slot_amount"][src, prev]).alias("Amount"),
            fmt_ts(np.where(prev_closed, opps["close_ts"][src], -1)).alias("Close Date"),
            pl.Series(STAGE_PROBABILITY[prev_stage]).cast(pl.String).alias("Probability"),
            pl.lit(None, dtype=pl.String).alias("Loss Reason"),
            fmt_ts(when).alias("Last Modified Date"),
        )
    )
    d.count("duplicate_id", len(src))
    out, counts = d.finish()
    return out, counts, (unknown, labels)


def dirty_history(
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


def dirty_activities(
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
