"""Incremental runs of file sources: which rows of tonight's export are new or changed.

Every row of a file source gets a 64-bit hash of its own text columns (`_hash`) and its record
key (`_key`: the trimmed text of the entity's id column; stage history: opportunity_id, else
lead_id) before any cleaning. The state file keeps, per source, the hash and key of every row the
last load loaded (`state_row_hashes`) and a fingerprint of everything that decides how rows are
cleaned and checked (`state_source_fingerprints`).

A run of an entity is incremental when every one of its sources is a file source whose stored
fingerprint equals tonight's, whose stored hashes match its loaded rows, and whose last load was
not for a later as-of day. Then only the rows of affected records are cleaned, deduplicated and
validated: a record is affected when one of its rows is fresh (its hash was not loaded last time:
new, changed, or quarantined then) or gone (loaded last time, absent tonight), in any source of
the entity. The other rows were loaded last time with the same result and stay loaded (carried).

This module decides which rows change; funnel.load writes the change into the state file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

import duckdb
import polars as pl

from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors.presets import effective_mapping
from funnel.extract import Extract, RowKeys, lineage, own_columns
from funnel.hygiene import HYGIENE_VERSION, decimal_comma_of, number_fields
from funnel.rowfiles import RowFiles
from transforms.clean import auto_scale, probability_numbers, trim_blanks
from transforms.mapping import to_canonical
from transforms.numbers import MarkCounts, NumberFormat, decide_format, value_marks
from transforms.schema import ENTITIES

Mode = Literal["full", "incremental"]
#: The record key of rows whose id is blank: such rows are one record for this purpose.
BLANK_KEY = "\x00blank"
PRIOR_SCHEMA = pl.Schema(
    {
        "row_hash": pl.UInt64,
        "record_key": pl.String,
        "warned": pl.Boolean,
        "as_of_bound": pl.Boolean,
    }
)

KEPT_SCHEMA = pl.Schema({"_hash": pl.UInt64, "_file": pl.String, "_line": pl.Int64})
#: Carried rows per parked file, and per transaction when their staged lines are applied.
CARRY_ROWS = 2_000_000

#: Config keys of a source that do not change how its rows are read, cleaned or checked (a
#: `changes_only` source carries nothing). A new key with a default must be listed here unless it
#: does: every fingerprint then stays as it was, and an upgrade does not make the next run full.
NOT_FINGERPRINTED = {
    "path",
    "token_env",
    "base_url",
    "timeout",
    "retries",
    "backoff",
    "changes_only",
}

DROPPED_SCHEMA = pl.Schema({"row_hash": pl.UInt64})


@dataclass(frozen=True)
class HashedExtract:
    """A file source's extract with `_hash` and `_key` on its rows, and its fingerprint."""

    extract: Extract
    fingerprint: str
    #: The probability scale the rows are cleaned with (auto resolved over every row).
    probability_scale: Literal["auto", 1, 100]
    #: The decimal mark of each number column, decided over every row.
    number_formats: Mapping[str, NumberFormat]


#: Lineage column prefix: a number field's class per row (transforms.numbers.value_marks).
MARKS = "_marks_"


@dataclass(frozen=True)
class Prior:
    """What the state holds of a file source's last load."""

    rows: pl.DataFrame  # PRIOR_SCHEMA: one row per loaded row
    fingerprint: str
    as_of: date
    raw_rows: int


@dataclass(frozen=True)
class StoredRowChanges:
    """How a file source's stored raw rows change tonight: which go, which stay (with today's
    line). funnel.load applies them."""

    mode: Mode
    #: Hashes of the stored raw rows that stay, with today's file and line (KEPT_SCHEMA), on
    #: disk until the load (at 10M leads 48M rows, about 2.3 GB in memory).
    kept: RowFiles
    #: Stored hashes whose raw rows go (gone, changed, or of an affected record).
    dropped: pl.DataFrame  # DROPPED_SCHEMA


def row_hashes(rows: pl.DataFrame) -> pl.Series:
    """A 64-bit hash of each row's own text columns (not `_rid`, `_file`, `_line`)."""
    own = own_columns(rows)
    return rows.select(own).hash_rows(seed=0).alias("_hash")


def _key_fields(entity_name: str) -> list[str]:
    return list(ENTITIES[entity_name].record_key)


def _record_key(entity_name: str) -> pl.Expr:
    """A row's record key from its key fields' text: the id, the first given of `one_of`, or
    the unique key's fields joined (Entity.record_key)."""
    entity = ENTITIES[entity_name]
    fields = _key_fields(entity_name)
    if entity.unique_key and not entity.id_field:
        return pl.concat_str(fields, separator="\x1f").alias("_key")
    return pl.coalesce(fields).alias("_key")


def row_keys(source: SourceConfig) -> RowKeys:
    """What a file source's rows add to their lineage (funnel.extract.extract_files): `_hash`
    and `_key`, `_probability` (the value as a number) where `auto` finds the scale, and each
    number field's class (`_marks_<field>`: what the value says of its decimal mark), from
    which `keyed` decides every number column's format over all rows.

    The key is the id as cleaning will read it (trimmed, 'NULL'-like markers blank), so it
    equals the loaded row's id (and the raw tables' upsert key).
    """
    entity = ENTITIES[source.entity]
    fields = _key_fields(source.entity)
    fields_of_numbers = number_fields(entity)
    decimal_comma = decimal_comma_of(source)

    def keys(rows: pl.DataFrame) -> pl.DataFrame:
        mapping = effective_mapping(source, own_columns(rows))
        frame = mapping.prepare(rows) if mapping.prepare else rows
        mapped = to_canonical(frame, entity, mapping.columns, source.constants).frame
        text = trim_blanks(mapped.select(fields), fields)
        out = [row_hashes(rows), text.select(_record_key(source.entity)).to_series()]
        numeric = trim_blanks(mapped.select(fields_of_numbers), fields_of_numbers)
        marks = [value_marks(numeric.get_column(f)).alias(MARKS + f) for f in fields_of_numbers]
        if mapping.probability_scale == "auto" and "probability" in entity.fields:
            p = numeric.get_column("probability")
            numbers = probability_numbers(p, decimal_comma, marks[fields_of_numbers.index(p.name)])
            out.append(numbers.alias("_probability"))
        return pl.DataFrame(out + marks)

    return keys


def keyed(
    config: FunnelConfig, source: SourceConfig, extract: Extract, checks_read: str | None = None
) -> HashedExtract:
    """A file source's rows with `_hash` and `_key` (see `row_keys`; a parked extract has them
    in its lineage already), and a fingerprint of how they are cleaned. `checks_read`: a digest
    of what the source's checks read from other entities (funnel.quality.rates.Rates)."""
    entity = ENTITIES[source.entity]
    header = extract.header
    if extract.on_disk is None:
        rows = extract.rows
        extract = replace(extract, rows=pl.concat([rows, row_keys(source)(rows)], how="horizontal"))
    mapping = effective_mapping(source, header)
    scale = mapping.probability_scale
    if scale == "auto" and "probability" in entity.fields:
        top = lineage(extract, ["_probability"]).select(pl.col("_probability").max()).collect()
        scale = auto_scale(top.item())
    formats = _number_formats(source, extract)
    spec = {
        # where the files are does not change how their rows are cleaned (dated exports)
        "source": source.model_dump(mode="json", exclude=NOT_FINGERPRINTED),
        "header": header,
        # staleness is judged per source each night and changes no row
        "validation": config.validation.model_dump(mode="json", exclude={"max_staleness_days"}),
        "timezone": config.warehouse.timezone,
        "probability_scale": scale,
        "number_formats": {f: fmt.key for f, fmt in formats.items()},
        "hygiene_version": HYGIENE_VERSION,
        "polars": pl.__version__,
    }
    if checks_read is not None:
        spec["checks_read"] = checks_read
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    return HashedExtract(extract, digest, scale, formats)


def _number_formats(source: SourceConfig, extract: Extract) -> dict[str, NumberFormat]:
    """Each number column's format, from the classes of all its values (`row_keys`)."""
    fields = number_fields(ENTITIES[source.entity])
    if not fields:
        return {}
    counted = (
        lineage(extract, [MARKS + f for f in fields])
        .select(pl.col(MARKS + f).value_counts().implode().alias(f) for f in fields)
        .collect()
    )
    decimal_comma = decimal_comma_of(source)
    head = _head(source, extract, fields)
    formats = {}
    for f in fields:
        per_class = {
            row[MARKS + f]: row["count"]
            for row in counted.get_column(f).explode().to_list()
            if row[MARKS + f] is not None
        }
        counts = MarkCounts.by_class(per_class)
        fmt = decide_format(f, counts, decimal_comma, source.name)
        formats[f] = fmt.with_examples(head.get_column(f))
    return formats


#: The rows of an export whose values give its number formats' examples (the lineage keeps
#: each value's class, not the value).
EXAMPLE_ROWS = 10_000


def _head(source: SourceConfig, extract: Extract, fields: list[str]) -> pl.DataFrame:
    """Those canonical fields of the export's first EXAMPLE_ROWS rows, as cleaning reads them:
    the same rows whichever records a run cleans, so the words in dq_results are the same for
    an incremental run as for a full one."""
    if extract.on_disk is None:
        rows = extract.rows.head(EXAMPLE_ROWS)
    else:
        rows = pl.scan_ipc(extract.on_disk.text.paths[0]).head(EXAMPLE_ROWS).collect()
    mapping = effective_mapping(source, own_columns(rows))
    frame = mapping.prepare(rows) if mapping.prepare else rows
    mapped = to_canonical(frame, ENTITIES[source.entity], mapping.columns, source.constants).frame
    return trim_blanks(mapped.select(fields), fields)


def read_prior(con: duckdb.DuckDBPyConnection, source: SourceConfig) -> Prior | None:
    """The source's stored hashes and fingerprint; None when it has none."""
    found = con.execute(
        "select fingerprint, as_of from state_source_fingerprints where source = ?", [source.name]
    ).fetchall()
    if not found:
        return None
    row = found[0]
    rows = con.sql(
        "select row_hash, record_key, warned, as_of_bound from state_row_hashes where source = $s",
        params={"s": source.name},
    ).pl()
    ((raw,),) = con.execute(
        f"select count(*) from raw_{source.entity} where source_system = ?", [source.name]
    ).fetchall()
    return Prior(rows.cast(PRIOR_SCHEMA), str(row[0]), row[1], int(raw))


def stored_matches(prior: Prior | None, fingerprint: str) -> bool:
    """Whether the stored load was cleaned and checked as tonight's rows will be and its hashes
    still match the source's raw rows."""
    return (
        prior is not None
        and prior.fingerprint == fingerprint
        and prior.raw_rows == prior.rows.height
    )


def can_carry(prior: Prior | None, fingerprint: str, as_of: date) -> bool:
    """Whether a source's last load can be carried over: the store matches (stored_matches)
    and tonight's as-of day is not before the last load's."""
    return stored_matches(prior, fingerprint) and prior is not None and as_of >= prior.as_of


def fresh_rows(hashes: pl.Series, prior: pl.DataFrame) -> pl.Series:
    """Per row of tonight: not loaded last time as it is now, or repeated word for word tonight.

    Only a stored hash that is unique in the store and not bound to its as-of day (see
    `_as_of_bound`) counts as loaded.
    """
    stored = prior.get_column("row_hash")  # (filtering the frame would copy its keys too)
    known = stored.filter(~stored.is_duplicated() & ~prior.get_column("as_of_bound"))
    loaded = hashes.is_in(known.implode())
    return (~loaded | hashes.is_duplicated()).alias("_fresh")


def affected_keys(today: pl.DataFrame, prior: pl.DataFrame) -> pl.Series:
    """Record keys (blank as BLANK_KEY) with a fresh row tonight or a stored row not carried.

    `today`: `_hash`, `_key`, `_fresh` of every row of tonight's export; `prior`: PRIOR_SCHEMA.
    """
    fresh = today.filter(pl.col("_fresh")).get_column("_key")
    candidates = today.filter(~pl.col("_fresh")).select(pl.col("_hash").alias("row_hash"))
    gone = prior.join(candidates, on="row_hash", how="anti").get_column("record_key")
    keys = pl.concat([fresh, gone]).fill_null(BLANK_KEY).unique().sort()
    return keys.alias("_key")


def narrow(
    keyed_extract: Extract, prior: pl.DataFrame, affected: pl.Series
) -> tuple[Extract, StoredRowChanges]:
    """The rows to process tonight (fresh, or of an affected record) and the rows carried."""
    rows = keyed_extract.rows
    today = lineage(keyed_extract, ["_hash", "_key", "_file", "_line"]).collect()
    hit = (
        today.lazy()
        .select(pl.col("_key").fill_null(BLANK_KEY))
        .join(
            affected.to_frame("_key").lazy().with_columns(pl.lit(True).alias("_hit")),
            on="_key",
            how="left",
            maintain_order="left",
        )
        .select(pl.col("_hit").is_not_null())
        .collect()
        .get_column("_hit")
    )
    process = rows.get_column("_fresh") | hit
    kept = today.select(*KEPT_SCHEMA).filter(~process)
    stored = prior.select(pl.col("row_hash").alias("_hash"), "warned")
    carried_warned = int(kept.join(stored, on="_hash").get_column("warned").sum())
    dropped = prior.join(kept.select(pl.col("_hash").alias("row_hash")), on="row_hash", how="anti")
    subset = rows.filter(process)
    parked = RowFiles("kept")
    for start in range(0, kept.height, CARRY_ROWS):
        parked.write(kept.slice(start, CARRY_ROWS))
    return (
        replace(keyed_extract, rows=subset, carried=kept.height, carried_warned=carried_warned),
        StoredRowChanges("incremental", parked, dropped.select("row_hash")),
    )


def all_replaced() -> StoredRowChanges:
    """A source run in full: nothing is carried, every stored row is replaced."""
    return StoredRowChanges("full", RowFiles("kept"), pl.DataFrame(schema=DROPPED_SCHEMA))


@dataclass(frozen=True)
class SourceRead:
    """One source as read tonight, with what the state holds of its last load."""

    extract: Extract
    #: File sources: how tonight's rows are cleaned and checked (None: an API source).
    fingerprint: str | None = None
    probability_scale: Literal["auto", 1, 100] | None = None
    prior: Prior | None = None
    #: Record keys of this source that tonight's run must process (when it is incremental).
    affected: pl.Series | None = None
    #: File sources: the decimal mark of each number column, decided over every row.
    number_formats: Mapping[str, NumberFormat] | None = None


def compare_to_last_load(
    con: duckdb.DuckDBPyConnection,
    config: FunnelConfig,
    source: SourceConfig,
    extract: Extract,
    checks_read: str | None = None,
) -> SourceRead:
    """Key a file source's rows and look up its last load; affected keys when it can carry.
    (`checks_read`: see `keyed`.)"""
    k = keyed(config, source, extract, checks_read)
    prior = read_prior(con, source)
    if prior is None or not stored_matches(prior, k.fingerprint):
        return SourceRead(
            k.extract, k.fingerprint, k.probability_scale, None, None, k.number_formats
        )
    today = lineage(k.extract, ["_hash", "_key"]).collect()
    fresh = fresh_rows(today.get_column("_hash"), prior.rows)
    affected = affected_keys(today.with_columns(fresh), prior.rows)
    rows = k.extract.rows.with_columns(fresh)
    return SourceRead(
        replace(k.extract, rows=rows),
        k.fingerprint,
        k.probability_scale,
        prior,
        affected,
        k.number_formats,
    )


def entity_affected(reads: Sequence[SourceRead], as_of: date, full_run: bool) -> pl.Series | None:
    """The record keys an entity's incremental run processes; None when it runs in full.

    Incremental needs every source of the entity to be a file source that can carry its last
    load (an API source or a source run in full would compete with carried rows unseen)."""
    if full_run or not reads:
        return None
    if any(r.fingerprint is None or not can_carry(r.prior, r.fingerprint, as_of) for r in reads):
        return None
    keys = [r.affected for r in reads if r.affected is not None]
    return pl.concat(keys).unique().sort() if keys else None
