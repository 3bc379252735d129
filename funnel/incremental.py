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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Literal

import duckdb
import polars as pl

from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors.presets import effective_mapping
from funnel.extract import Extract, RowKeys, lineage, lineage_parts, own_columns
from funnel.hygiene import HYGIENE_VERSION, decimal_comma_of, number_fields
from funnel.quality.checks import BIRTH_FIELDS, EVENT_FIELDS
from funnel.quality.validate import SourceOutcome
from funnel.rowfiles import RowFiles
from transforms.clean import auto_scale, probability_numbers, trim_blanks
from transforms.mapping import to_canonical
from transforms.numbers import MarkCounts, NumberFormat, decide_format, value_marks
from transforms.schema import ENTITIES, raw_table_name

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
#: Carried rows (all sources) whose lines a load writes in its own transaction; more are staged
#: and written after it (`stage_lines`). 1M leads carry 4.9M rows: about 1 GB held until the
#: commit.
IN_PLACE_ROWS = 6_000_000

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
class Keyed:
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
class Carry:
    """How a source's raw rows change: which stored rows go, which stay (with today's line)."""

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
) -> Keyed:
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
    return Keyed(extract, digest, scale, formats)


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
) -> tuple[Extract, Carry]:
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
        Carry("incremental", parked, dropped.select("row_hash")),
    )


def full() -> Carry:
    """A source run in full: nothing is carried."""
    return Carry("full", RowFiles("kept"), pl.DataFrame(schema=DROPPED_SCHEMA))


def drop_replaced(con: duckdb.DuckDBPyConnection, source: SourceConfig, carry: Carry) -> None:
    """Delete the source's raw rows that are not carried. Part of the load transaction."""
    table = f"raw_{source.entity}"
    dropped = carry.dropped  # noqa: F841 - read by DuckDB below
    con.execute(
        f"delete from {table} where source_system = ? and (source_row_hash is null"
        " or source_row_hash in (select row_hash from dropped))",
        [source.name],
    )


def lines_in_place(carries: Mapping[str, Carry]) -> bool:
    """Whether the load writes the carried rows' lines for tonight in its own transaction (few
    carried rows: the fast way) rather than staging them (see `stage_lines`)."""
    return sum(c.kept.height for c in carries.values()) <= IN_PLACE_ROWS


def relineage(con: duckdb.DuckDBPyConnection, source: SourceConfig, carry: Carry) -> None:
    """Point the source's carried raw rows at tonight's file and line, in the load transaction
    (when `lines_in_place`). DuckDB holds these updates in memory until the commit and they do
    not spill: the caller lifts the transaction's memory limit first."""
    for part in range(len(carry.kept.paths)):
        kept = carry.kept.read(part).to_arrow(compat_level=pl.CompatLevel.newest())
        con.register("carried_lines", kept)
        try:
            _point_at(con, source.entity, "carried_lines", {"source": source.name})
        finally:
            con.unregister("carried_lines")


def stage_lines(con: duckdb.DuckDBPyConnection, source: SourceConfig, carry: Carry) -> None:
    """Stage tonight's file and line of the source's carried rows in `state_pending_lines`
    (part of the load transaction); `apply_lines` writes them onto the raw rows after it.

    For many carried rows: DuckDB holds a transaction's updates in memory until it commits,
    130 bytes a row or more (7 GB for the carried rows of 10M leads), and nearly every carried row
    moves to another line when rows before it come or go. Staged rows are inserts, which DuckDB
    writes to disk; applied a part per transaction, the updates never pile up."""
    for part in range(len(carry.kept.paths)):
        kept = carry.kept.read(part)  # noqa: F841 - read by DuckDB below
        con.execute(
            "insert into state_pending_lines select ?, ?, ?, _hash, _file, _line from kept",
            [source.name, source.entity, part],
        )


def unstage_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Drop lines an earlier load staged and did not apply (it stopped half-way): tonight's
    load supersedes them (carried rows get tonight's lines again, the others are replaced)."""
    con.execute("delete from state_pending_lines")


def apply_lines(con: duckdb.DuckDBPyConnection) -> int:
    """Write the staged lines onto the raw rows, a staged part (CARRY_ROWS rows) per
    transaction, each part's staged rows deleted as it commits; returns the parts applied.

    Called after a load commits, and before anything else reads the raw rows (a rebuild, the
    next load): a run stopped half-way leaves the rest staged, never lost."""
    parts = con.execute(
        "select distinct source, entity, part from state_pending_lines order by all"
    ).fetchall()
    for name, entity, part in parts:
        staged = (
            "(select row_hash as _hash, source_file as _file, source_line as _line"
            " from state_pending_lines where source = $source and part = $part)"
        )
        con.begin()
        _point_at(con, entity, staged, {"source": name, "part": part})
        con.execute(
            "delete from state_pending_lines where source = $source and part = $part",
            {"source": name, "part": part},
        )
        con.commit()
    return len(parts)


def _point_at(
    con: duckdb.DuckDBPyConnection, entity: str, lines: str, params: dict[str, object]
) -> None:
    """Set the file and line of the raw rows of source `$source` whose hash is in `lines` (a
    relation of KEPT_SCHEMA). Only carried rows match: a row loaded tonight never has a carried
    row's hash."""
    table = raw_table_name(ENTITIES[entity].name)
    match = f"{table}.source_system = $source and {table}.source_row_hash = p._hash"
    # a column at a time, rows that change only: an update holds every value it writes until
    # its transaction commits, so a file name is written only where the file changed
    for column, new in (("source_line", "_line"), ("source_file", "_file")):
        con.execute(
            f"update {table} set {column} = p.{new} from {lines} p"
            f" where {match} and {table}.{column} is distinct from p.{new}",
            params,
        )


def _as_of_bound(columns: list[str], entity_name: str, as_of: date | None) -> pl.Expr:
    """Rows a past day's load changed (a later date blanked): re-checked on the next run."""
    if as_of is None:
        return pl.lit(False)
    end = datetime.combine(as_of, time.max)
    later = [f for f in EVENT_FIELDS if f in columns and f != BIRTH_FIELDS.get(entity_name)]
    return (
        pl.any_horizontal([pl.col(f) > end for f in later]).fill_null(False)
        if later
        else pl.lit(False)
    )


def newly_loaded(outcome: SourceOutcome, extract: Extract) -> Iterator[pl.DataFrame]:
    """PRIOR_SCHEMA rows of the rows the source loads tonight (not the carried ones), a lineage
    file at a time: a source's row keys at once took 1.3 GiB more at 10M leads (activities)."""
    rows = outcome.clean_rows.scan()  # parked: reads these few columns only
    columns = rows.collect_schema().names()
    loaded = (  # about 10 bytes a row
        rows.filter(~pl.col("_rid").is_in(outcome.rejected.implode()))
        .select(
            "_rid",
            pl.col("_rid").is_in(outcome.warned.implode()).alias("warned"),
            _as_of_bound(columns, outcome.entity, outcome.past_day).alias("as_of_bound"),
        )
        .collect()
    )
    for keys in lineage_parts(extract, ["_hash", "_key"]):
        if keys.is_empty():
            continue
        # a file's `_rid`s are a run of the extract's: its loaded rows are picked by range first
        # (a cheap filter that keeps the join small; the join alone decides which rows match)
        first, last = keys.get_column("_rid").min(), keys.get_column("_rid").max()
        part = loaded.filter(pl.col("_rid").is_between(first, last)).join(keys, on="_rid")
        yield part.select(
            pl.col("_hash").alias("row_hash"),
            pl.col("_key").alias("record_key"),
            "warned",
            "as_of_bound",
        ).cast(PRIOR_SCHEMA)


def store(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    as_of: date,
    source: SourceConfig,
    fingerprint: str,
    carry: Carry,
    loaded: Iterable[pl.DataFrame],
) -> None:
    """Store what the source has loaded after tonight (in the load transaction): the carried
    rows' hashes stay, the dropped ones go (a full run: all go), tonight's loaded rows' come
    (`newly_loaded`'s parts)."""
    if carry.mode == "incremental":
        dropped = carry.dropped  # noqa: F841 - read by DuckDB below
        con.execute(
            "delete from state_row_hashes where source = ?"
            " and row_hash in (select row_hash from dropped)",
            [source.name],
        )
    else:
        con.execute("delete from state_row_hashes where source = ?", [source.name])
    for part in loaded:
        # as Arrow (string views): DuckDB converting the polars frame itself took longer
        frame = part.to_arrow(compat_level=pl.CompatLevel.newest())  # noqa: F841 - read below
        con.execute(
            "insert into state_row_hashes select ?, row_hash, record_key, warned, as_of_bound"
            " from frame",
            [source.name],
        )
    con.execute(
        "insert or replace into state_source_fingerprints values (?, ?, ?, ?)",
        [source.name, fingerprint, as_of, run_id],
    )


def forget_others(con: duckdb.DuckDBPyConnection, file_sources: Sequence[str]) -> None:
    """Drop the stored hashes of sources that are no longer file sources of the config."""
    names = list(file_sources)
    con.execute("delete from state_row_hashes where not list_contains(?, source)", [names])
    con.execute("delete from state_source_fingerprints where not list_contains(?, source)", [names])


@dataclass(frozen=True)
class Read:
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


def read(
    con: duckdb.DuckDBPyConnection,
    config: FunnelConfig,
    source: SourceConfig,
    extract: Extract,
    checks_read: str | None = None,
) -> Read:
    """Key a file source's rows and look up its last load; affected keys when it can carry.
    (`checks_read`: see `keyed`.)"""
    k = keyed(config, source, extract, checks_read)
    prior = read_prior(con, source)
    if prior is None or not stored_matches(prior, k.fingerprint):
        return Read(k.extract, k.fingerprint, k.probability_scale, None, None, k.number_formats)
    today = lineage(k.extract, ["_hash", "_key"]).collect()
    fresh = fresh_rows(today.get_column("_hash"), prior.rows)
    affected = affected_keys(today.with_columns(fresh), prior.rows)
    rows = k.extract.rows.with_columns(fresh)
    return Read(
        replace(k.extract, rows=rows),
        k.fingerprint,
        k.probability_scale,
        prior,
        affected,
        k.number_formats,
    )


def entity_affected(reads: Sequence[Read], as_of: date, full_run: bool) -> pl.Series | None:
    """The record keys an entity's incremental run processes; None when it runs in full.

    Incremental needs every source of the entity to be a file source that can carry its last
    load (an API source or a source run in full would compete with carried rows unseen)."""
    if full_run or not reads:
        return None
    if any(r.fingerprint is None or not can_carry(r.prior, r.fingerprint, as_of) for r in reads):
        return None
    keys = [r.affected for r in reads if r.affected is not None]
    return pl.concat(keys).unique().sort() if keys else None
