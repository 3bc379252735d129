"""One source's extract, mapped to canonical fields, cleaned and deduplicated."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import polars as pl

from funnel import rowfiles
from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors import outcome as outcomes
from funnel.connectors.outcome import OUTCOME_COLUMN as OUTCOME
from funnel.connectors.presets import effective_mapping
from funnel.connectors.registry import is_api
from funnel.errors import ConfigError
from funnel.extract import Extract, text_slices, to_disk
from transforms.clean import CleanOptions, clean, probability_scale_of, trim_blanks
from transforms.dedupe import dedupe_key, superseded_rows
from transforms.mapping import Mapped, to_canonical
from transforms.numbers import MarkCounts, NumberFormat, decide_format
from transforms.schema import ENTITIES, Entity

#: Bump when a change to cleaning, deduplication or the checks changes the rows a run loads:
#: a file source whose last load was cleaned by another version then runs in full once.
HYGIENE_VERSION = 5
#: Rows cleaned at a time (about: a parked extract's slices are whole batches of its reader).
#: Cleaning makes passing copies of the rows it works on, and the cleaned rows of a whole
#: source are large too: a slice at a time is read, cleaned and written to disk.
CLEAN_ROWS = 1_000_000


@dataclass(frozen=True)
class CleanSource:
    """A source's rows after hygiene, and the rows hygiene set aside (superseded duplicates)."""

    source: SourceConfig
    extract: Extract
    #: Typed canonical fields, `stage_label`, `_unparsed`, `_rid`, `_file`, `_line` (and a file
    #: source's `_hash`), parked on disk as they are cleaned, less the superseded rows.
    clean_rows: rowfiles.KeptRows
    #: `_rid`, `winner_line`: older copies of an id that a newer row replaced.
    superseded: pl.DataFrame
    #: Required fields the source does not provide at all (a blocking gate).
    missing_required: tuple[str, ...]
    #: A preset source with the CRM's own outcome column: what it said (funnel.quality.outcomes).
    outcome: outcomes.Tally | None = None
    #: How each number column was read: its decimal mark, decided over all the source's rows.
    number_formats: Mapping[str, NumberFormat] = field(default_factory=dict)

    @property
    def rows(self) -> pl.DataFrame:
        return self.clean_rows.read()


def number_fields(entity: Entity) -> list[str]:
    """The entity's money and number fields (amount, budget, probability, ...)."""
    return [n for n, kind in entity.fields.items() if kind in ("money", "number")]


def decimal_comma_of(source: SourceConfig) -> bool | None:
    """The source's decimal mark: as configured; an API source's numbers come as JSON writes
    them (a point); else None, told per column by the values."""
    if source.decimal_comma is None and is_api(source.format):
        return False
    return source.decimal_comma


Mapper = Callable[[pl.DataFrame], Mapped]


def _mapper(config: FunnelConfig, source: SourceConfig, extract: Extract) -> Mapper:
    """The source's rows as canonical text; a mapped column absent from the file: ConfigError."""
    entity = ENTITIES[source.entity]
    header = extract.header
    mapping = effective_mapping(source, header)

    outcome = mapping.outcome if entity.has_stage else None

    def mapped(rows: pl.DataFrame) -> Mapped:
        frame = mapping.prepare(rows) if mapping.prepare else rows
        out = to_canonical(frame, entity, mapping.columns, source.constants)
        if out.absent_columns:
            raise ConfigError(
                f"{config.config_path}: sources[{source.name}].columns: "
                + ", ".join(repr(c) for c in out.absent_columns)
                + f" not found in {', '.join(extract.files)} (its columns: {', '.join(header)})"
            )
        if outcome is not None:  # the CRM's own outcome rides along to be applied once clean
            out = replace(out, frame=out.frame.with_columns(outcome.outcomes(frame)))
        return out

    return mapped


def _survey(
    source: SourceConfig, extract: Extract, mapped: Mapper, formats: bool, probability: bool
) -> tuple[dict[str, NumberFormat], pl.Series | None]:
    """What is decided over all of a source's rows, not a slice's, in one pass over them: the
    decimal mark of each number column (when `formats`), and the probability texts (when
    `probability`, for the scale `auto`)."""
    numbers = number_fields(ENTITIES[source.entity]) if formats else []
    counts = dict.fromkeys(numbers, MarkCounts())
    texts = []
    for rows in text_slices(extract, CLEAN_ROWS):
        frame = mapped(rows).frame
        trimmed = trim_blanks(frame.select(numbers), numbers)  # as cleaning will read them
        for f in numbers:
            counts[f] = counts[f] + MarkCounts.of(trimmed.get_column(f))
        if probability:
            texts.append(frame.get_column("probability"))
        del rows, frame, trimmed
    decimal_comma = decimal_comma_of(source)
    decided = {f: decide_format(f, counts[f], decimal_comma, source.name) for f in numbers}
    return decided, pl.concat(texts) if probability else None


def number_formats_of(
    config: FunnelConfig, source: SourceConfig, extract: Extract
) -> dict[str, NumberFormat]:
    """The decimal mark of each number column of a source, decided over all its rows as a run
    decides it (`NumberFormat.describe()` says it in words: what `funnel check` prints)."""
    formats, _ = _survey(source, extract, _mapper(config, source, extract), True, False)
    return formats


def clean_source(
    config: FunnelConfig,
    source: SourceConfig,
    extract: Extract,
    probability_scale: Literal["auto", 1, 100] | None = None,
    number_formats: Mapping[str, NumberFormat] | None = None,
) -> CleanSource:
    """Map, clean and deduplicate one source. A mapped column absent from the file: ConfigError.

    `probability_scale` and `number_formats` override the source's (an incremental run cleans
    some rows only, with the scale `auto` and the decimal marks found over all of them)."""
    entity = ENTITIES[source.entity]
    mapping = effective_mapping(source, extract.header)
    mapped = _mapper(config, source, extract)
    outcome = mapping.outcome if entity.has_stage else None
    scale = probability_scale or mapping.probability_scale
    auto = scale == "auto" and "probability" in entity.fields
    formats = dict(number_formats) if number_formats is not None else {}
    if auto or number_formats is None:
        found, texts = _survey(source, extract, mapped, number_formats is None, auto)
        formats = formats or found
        if texts is not None:
            scale = probability_scale_of(texts, decimal_comma_of(source))
    options = CleanOptions(
        date_formats=source.date_formats,
        timezone=config.warehouse.timezone,
        decimal_comma=decimal_comma_of(source),
        probability_scale=scale,
        stages=mapping.stages,
        number_formats=formats,
    )
    closes = mapping.closed_at_from_close_date and "closed_at" in entity.fields
    cleaned = rowfiles.RowFiles(f"{source.name}-clean")
    missing_required: tuple[str, ...] = ()
    tally = outcomes.Tally(outcome.name) if outcome is not None else None
    if mapping.outcome_missing and entity.has_stage:
        tally = outcomes.Tally("(none)", missing=mapping.outcome_missing)
    # each slice goes to disk as it is cleaned: one slice is in memory at a time
    for rows in text_slices(extract, CLEAN_ROWS):
        canonical = mapped(rows)
        missing_required = canonical.missing_required
        if tally is not None:  # what the outcome column said (all null: there is none)
            rids = canonical.frame.get_column("_rid")
            if outcome is not None:
                said, values = canonical.frame.get_column(OUTCOME), outcome.values(rows)
            else:
                said = pl.repeat(None, len(rids), dtype=pl.String, eager=True)
                values = pl.repeat("", len(rids), dtype=pl.String, eager=True)
            tally.add(rids, said, values)
        part = outcomes.apply(clean(canonical.frame, entity, options))
        cleaned.write(closed_at_from_close_date(part) if closes else part)
        del rows, canonical, part  # not held while the next slice is read
    superseded = superseded_rows(_dedupe_columns(cleaned, entity), entity)
    clean_rows = rowfiles.KeptRows(cleaned, superseded.get_column("_rid"))
    return CleanSource(
        source, to_disk(extract), clean_rows, superseded, missing_required, tally, formats
    )


def _dedupe_columns(cleaned: rowfiles.RowFiles, entity: Entity) -> pl.DataFrame:
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
