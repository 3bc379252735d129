"""One source's extract, mapped to canonical fields, cleaned and deduplicated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from funnel import parking
from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors import effective_mapping
from funnel.errors import ConfigError
from funnel.extract import Extract, spill, text_slices
from funnel.schema import ENTITIES, Entity
from transforms.clean import CleanOptions, clean, probability_scale_of
from transforms.dedupe import dedupe_key, superseded_rows
from transforms.mapping import Mapped, to_canonical

#: Bump when a change to cleaning, deduplication or the checks changes the rows a run loads:
#: a file source whose last load was cleaned by another version then runs in full once.
HYGIENE_VERSION = 2
#: Rows cleaned at a time (about: a parked extract's slices are whole batches of its reader).
#: Cleaning makes passing copies of the rows it works on, and the cleaned rows of a whole
#: source are large too (3 GB for 21M activities): a slice at a time is read, cleaned and
#: parked.
CLEAN_ROWS = 1_000_000


@dataclass(frozen=True)
class CleanSource:
    """A source's rows after hygiene, and the rows hygiene set aside (superseded duplicates)."""

    source: SourceConfig
    extract: Extract
    #: Typed canonical fields, `stage_label`, `_unparsed`, `_rid`, `_file`, `_line` (and a file
    #: source's `_hash`), parked on disk as they are cleaned, less the superseded rows.
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
    header = extract.header
    mapping = effective_mapping(source, header)

    def mapped(rows: pl.DataFrame) -> Mapped:
        frame = mapping.prepare(rows) if mapping.prepare else rows
        out = to_canonical(frame, entity, mapping.columns, source.constants)
        if out.absent_columns:
            raise ConfigError(
                f"{config.config_path}: sources[{source.name}].columns: "
                + ", ".join(repr(c) for c in out.absent_columns)
                + f" not found in {', '.join(extract.files)} (its columns: {', '.join(header)})"
            )
        return out

    scale = probability_scale or mapping.probability_scale
    if scale == "auto" and "probability" in entity.fields:  # found over all rows, not a slice's
        texts = (
            mapped(rows).frame.get_column("probability")
            for rows in text_slices(extract, CLEAN_ROWS)
        )
        scale = probability_scale_of(pl.concat(list(texts)), source.decimal_comma)
    options = CleanOptions(
        date_formats=source.date_formats,
        timezone=config.warehouse.timezone,
        decimal_comma=source.decimal_comma,
        probability_scale=scale,
        stages=mapping.stages,
    )
    closes = mapping.closed_at_from_close_date and "closed_at" in entity.fields
    cleaned = parking.Parked(f"{source.name}-clean")
    missing_required: tuple[str, ...] = ()
    # each slice goes to disk as it is cleaned: one slice is in memory at a time
    for rows in text_slices(extract, CLEAN_ROWS):
        canonical = mapped(rows)
        missing_required = canonical.missing_required
        part = clean(canonical.frame, entity, options)
        cleaned.write(closed_at_from_close_date(part) if closes else part)
        del rows, canonical, part  # not held while the next slice is read
    superseded = superseded_rows(_dedupe_columns(cleaned, entity), entity)
    stored = parking.Stored(cleaned, superseded.get_column("_rid"))
    return CleanSource(source, spill(extract), stored, superseded, missing_required)


def _dedupe_columns(cleaned: parking.Parked, entity: Entity) -> pl.DataFrame:
    """The columns dedupe reads, of every cleaned row."""
    rows = cleaned.scan()
    names = rows.collect_schema().names()
    wanted = ["_rid", *dedupe_key(entity), "updated_at", "_line"]
    return rows.select(c for c in dict.fromkeys(wanted) if c in names).collect()


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
    key = list(entity.record_key)
    if entity.unique_key and not entity.id_field:
        record = pl.concat_str([pl.col(f).cast(pl.String) for f in key], separator="\x1f")
    else:
        record = pl.coalesce(key)
    ids = cleaned.rows.select(record.alias("id")).get_column("id").drop_nulls()
    return sorted(set(ids.to_list()))
