"""One source's extract, mapped to canonical fields, cleaned and deduplicated."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from funnel.config import FunnelConfig, SourceConfig
from funnel.errors import ConfigError
from funnel.extract import Extract
from funnel.schema import ENTITIES
from transforms.clean import CleanOptions, clean
from transforms.dedupe import dedupe
from transforms.mapping import to_canonical


@dataclass(frozen=True)
class CleanSource:
    """A source's rows after hygiene, and the rows hygiene set aside (superseded duplicates)."""

    source: SourceConfig
    extract: Extract
    #: Typed canonical fields, `stage_label`, `_unparsed`, `_rid`, `_file`, `_line`.
    rows: pl.DataFrame
    #: `_rid`, `winner_line`: older copies of an id that a newer row replaced.
    superseded: pl.DataFrame
    #: Required fields the source does not provide at all (a blocking gate).
    missing_required: tuple[str, ...]


def clean_source(config: FunnelConfig, source: SourceConfig, extract: Extract) -> CleanSource:
    """Map, clean and deduplicate one source. A mapped column absent from the file: ConfigError."""
    entity = ENTITIES[source.entity]
    mapped = to_canonical(extract.rows, entity, source.columns, source.constants)
    if mapped.absent_columns:
        header = [c for c in extract.rows.columns if not c.startswith("_")]
        raise ConfigError(
            f"{config.config_path}: sources[{source.name}].columns: "
            + ", ".join(repr(c) for c in mapped.absent_columns)
            + f" not found in {', '.join(extract.files)} (its columns: {', '.join(header)})"
        )
    options = CleanOptions(
        date_formats=source.date_formats,
        timezone=config.warehouse.timezone,
        decimal_comma=source.decimal_comma,
        probability_scale=source.probability_scale,
        stages=source.stages,
    )
    cleaned = clean(mapped.frame, entity, options)
    kept, superseded = dedupe(cleaned, entity)
    return CleanSource(source, extract, kept, superseded, mapped.missing_required)
