"""One source's extract, mapped to canonical fields, cleaned and deduplicated."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import polars as pl

from funnel import parking
from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors import effective_mapping
from funnel.errors import ConfigError
from funnel.extract import Extract, spill
from funnel.schema import ENTITIES
from transforms.clean import CleanOptions, clean
from transforms.dedupe import dedupe
from transforms.mapping import to_canonical

#: Bump when a change to cleaning, deduplication or the checks changes the rows a run loads:
#: a file source whose last load was cleaned by another version then runs in full once.
HYGIENE_VERSION = 1


@dataclass(frozen=True)
class CleanSource:
    """A source's rows after hygiene, and the rows hygiene set aside (superseded duplicates)."""

    source: SourceConfig
    extract: Extract
    #: Typed canonical fields, `stage_label`, `_unparsed`, `_rid`, `_file`, `_line`; in memory,
    #: or parked on disk until validate reads them (`park`).
    stored: parking.Stored
    #: `_rid`, `winner_line`: older copies of an id that a newer row replaced.
    superseded: pl.DataFrame
    #: Required fields the source does not provide at all (a blocking gate).
    missing_required: tuple[str, ...]

    @property
    def rows(self) -> pl.DataFrame:
        return self.stored.read()


def clean_source(
    config: FunnelConfig,
    source: SourceConfig,
    extract: Extract,
    probability_scale: Literal["auto", 1, 100] | None = None,
) -> CleanSource:
    """Map, clean and deduplicate one source. A mapped column absent from the file: ConfigError.

    `probability_scale` overrides the source's (an incremental run cleans some rows only, with
    the scale `auto` found over all of them)."""
    entity = ENTITIES[source.entity]
    header = [c for c in extract.rows.columns if not c.startswith("_")]
    mapping = effective_mapping(source, header)
    frame = mapping.prepare(extract.rows) if mapping.prepare else extract.rows
    mapped = to_canonical(frame, entity, mapping.columns, source.constants)
    if mapped.absent_columns:
        raise ConfigError(
            f"{config.config_path}: sources[{source.name}].columns: "
            + ", ".join(repr(c) for c in mapped.absent_columns)
            + f" not found in {', '.join(extract.files)} (its columns: {', '.join(header)})"
        )
    options = CleanOptions(
        date_formats=source.date_formats,
        timezone=config.warehouse.timezone,
        decimal_comma=source.decimal_comma,
        probability_scale=probability_scale or mapping.probability_scale,
        stages=mapping.stages,
    )
    cleaned = clean(mapped.frame, entity, options)
    if mapping.closed_at_from_close_date and "closed_at" in entity.fields:
        cleaned = closed_at_from_close_date(cleaned)
    kept, superseded = dedupe(cleaned, entity)
    return CleanSource(
        source, spill(extract), parking.in_memory(kept), superseded, mapped.missing_required
    )


def park(cleaned: CleanSource) -> CleanSource:
    """The same source with its cleaned rows parked on disk until validate reads them."""
    return replace(cleaned, stored=parking.park(cleaned.stored, f"{cleaned.source.name}-clean"))


def closed_at_from_close_date(frame: pl.DataFrame) -> pl.DataFrame:
    """A won or lost record without `closed_at` was closed on its close date (Salesforce,
    HubSpot: the close date is the expected one while open, the actual one once closed)."""
    closed = pl.col("stage").is_in(["won", "lost"]) & pl.col("closed_at").is_null()
    return frame.with_columns(
        pl.when(closed)
        .then(pl.col("expected_close_date").cast(pl.Datetime("us")))
        .otherwise(pl.col("closed_at"))
        .alias("closed_at")
    )


def record_ids(cleaned: CleanSource) -> list[str]:
    """The ids of the records a source brought this run (loaded or quarantined alike): what an
    incremental pull replaces. Stage history rows belong to their opportunity (or lead)."""
    entity = ENTITIES[cleaned.source.entity]
    key = [entity.id_field] if entity.id_field else list(entity.one_of)
    ids = cleaned.rows.select(pl.coalesce(key).alias("id")).get_column("id").drop_nulls()
    return sorted(set(ids.to_list()))
