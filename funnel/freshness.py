"""Freshness: whether each source's newest record is recent enough for the as-of day.

A source's newest record is the latest created, updated, closed, converted, stage-change
(`entered_at`) or activity (`occurred_at`) time of the rows it has loaded once the run loads:
tonight's loaded rows, and the rows an incremental run keeps from earlier loads. Times after the
as-of day do not count (on a past day they had not happened; on today's they are errors), so
a backfill judges each day as it stood. A source is stale when that time is more than
`[validation] max_staleness_days` days before the as-of day; the check `freshness` warns by
default, and as an error (`[validation] severity = { freshness = "error" }`) blocks the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time

import duckdb
import polars as pl

from funnel.config import ValidationConfig
from funnel.hygiene import record_ids
from funnel.quality.checks import EVENT_FIELDS
from funnel.quality.validate import RESULT_SCHEMA, EntityOutcome, SourceOutcome
from funnel.read import SourceLoad
from funnel.state import upsert_key
from transforms.schema import ENTITIES, raw_table_name

CHECK = "freshness"


@dataclass(frozen=True)
class Freshness:
    """One source's newest record against the as-of day."""

    source: str
    entity: str
    as_of: date
    #: The newest record time (None: the source has no dated rows loaded).
    newest: datetime | None
    #: The field that holds it.
    field: str | None
    max_days: int
    severity: str
    #: Rows the source has loaded (tonight's and kept ones).
    rows: int

    @property
    def age_days(self) -> int | None:
        """Whole days from the newest record's day to the as-of day."""
        return None if self.newest is None else (self.as_of - self.newest.date()).days

    @property
    def stale(self) -> bool:
        age = self.age_days
        return age is not None and age > self.max_days

    @property
    def detail(self) -> str:
        """The finding in words (dq_results.details)."""
        if self.newest is None:
            fields = "/".join(f for f in EVENT_FIELDS if f in ENTITIES[self.entity].fields)
            return f"not judged: no loaded row has a {fields} time up to {self.as_of}"
        return (
            f"newest record {self.newest:%Y-%m-%d %H:%M} ({self.field}), {self.age_days} days"
            f" before the as-of day {self.as_of}; max_staleness_days {self.max_days}"
        )

    @property
    def message(self) -> str:
        """One line naming the source, for the run summary, the alert and the gate."""
        return f"{self.source}: stale export: {self.detail}"


@dataclass(frozen=True)
class Kept:
    """Which of a source's rows in the state stay loaded after tonight's load (see
    funnel.state.load_rows): none (a full run), all but the `dropped` row hashes (an
    incremental file source) or all but the rows of the `replaced` records (a pull of
    changes)."""

    dropped: pl.DataFrame | None = None
    replaced: Sequence[str] | None = None


def kept_rows(loads: Sequence[SourceLoad]) -> dict[str, Kept]:
    """What each source keeps from earlier loads, as the load will decide it."""
    out: dict[str, Kept] = {}
    for s in loads:
        if s.carries and s.changes is not None:
            out[s.name] = Kept(dropped=s.changes.dropped)
        elif s.cleaned.extract.incremental:
            out[s.name] = Kept(replaced=record_ids(s.cleaned))
        else:
            out[s.name] = Kept()
    return out


def _event_fields(entity: str) -> list[str]:
    return [f for f in EVENT_FIELDS if f in ENTITIES[entity].fields]


def _newest_tonight(outcome: SourceOutcome, end: datetime) -> dict[str, datetime | None]:
    """The newest time of each event field over tonight's loaded rows (up to `end`)."""
    fields = _event_fields(outcome.entity)
    rows = outcome.clean_rows.scan().filter(~pl.col("_rid").is_in(outcome.rejected.implode()))
    newest = rows.select(
        pl.col(f).filter(pl.col(f) <= end).max().alias(f) for f in fields
    ).collect()
    return {f: _as_time(newest.item(0, f)) for f in fields}


def _newest_kept(
    con: duckdb.DuckDBPyConnection, outcome: SourceOutcome, kept: Kept, end: datetime
) -> dict[str, datetime | None]:
    """The newest time of each event field over the rows the source keeps from earlier loads."""
    fields = _event_fields(outcome.entity)
    if not fields or (kept.dropped is None and kept.replaced is None):
        return {}
    table = raw_table_name(outcome.entity)
    params: dict[str, object] = {"source": outcome.source, "end": end}
    if kept.dropped is not None:
        dropped = kept.dropped  # noqa: F841 - read by DuckDB below
        where = (
            "source_row_hash is not null and source_row_hash not in (select row_hash from dropped)"
        )
    else:
        params["ids"] = list(kept.replaced or [])
        where = f"not list_contains($ids, {upsert_key(outcome.entity)})"
    picked = ", ".join(f"max({f}) filter (where {f} <= $end)" for f in fields)
    row = con.execute(
        f"select {picked} from {table} where source_system = $source and {where}", params
    ).fetchone()
    return {f: _as_time(v) for f, v in zip(fields, row or (), strict=False)}


def _as_time(value: date | None) -> datetime | None:
    """A date-only field (an exchange rate's rate_date) as the start of its day, so every
    field's newest value compares and prints as a time."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min)


def judge(
    con: duckdb.DuckDBPyConnection,
    config: ValidationConfig,
    as_of: date,
    outcomes: Sequence[EntityOutcome],
    kept: Mapping[str, Kept],
) -> list[Freshness]:
    """Every source's freshness (none when the check is `off`)."""
    severity = config.severity.get(CHECK, "warn")
    if severity == "off":
        return []
    end = datetime.combine(as_of, time.max)
    out = []
    for outcome in outcomes:
        for s in outcome.sources:
            times = {f: t for f, t in _newest_tonight(s, end).items() if t is not None}
            for f, t in _newest_kept(con, s, kept.get(s.source, Kept()), end).items():
                if t is not None and (f not in times or t > times[f]):
                    times[f] = t
            field = max(times, key=lambda f: times[f]) if times else None
            out.append(
                Freshness(
                    source=s.source,
                    entity=s.entity,
                    as_of=as_of,
                    newest=times[field] if field else None,
                    field=field,
                    max_days=config.max_staleness_days,
                    severity=severity,
                    rows=s.rows_loaded,
                )
            )
    return out


def with_results(
    outcomes: Sequence[EntityOutcome], judged: Sequence[Freshness]
) -> list[EntityOutcome]:
    """The outcomes with a `freshness` row per source in their dq_results."""
    by_entity: dict[str, list[Freshness]] = {}
    for f in judged:
        by_entity.setdefault(f.entity, []).append(f)
    out = []
    for o in outcomes:
        mine = by_entity.get(o.sources[0].entity, []) if o.sources else []
        if not mine:
            out.append(o)
            continue
        rows = pl.DataFrame(
            [
                (
                    f.source,
                    f.entity,
                    CHECK,
                    f.field,
                    f.severity,
                    f.rows,
                    f.rows if f.stale else 0,
                    not f.stale,
                    f.detail,
                )
                for f in mine
            ],
            schema=RESULT_SCHEMA,
            orient="row",
        )
        out.append(replace(o, results=pl.concat([o.results, rows])))
    return out


def blocking(judged: Sequence[Freshness]) -> list[str]:
    """Why stale sources stop the run: those whose check is an error."""
    return [f.message for f in judged if f.stale and f.severity == "error"]
