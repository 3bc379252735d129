"""Loading a run's rows into the state file, in one transaction.

Each source's rows replace what it loaded last time: all of them (a full run), the rows of the
records it pulled (a pull of changes), or all but the rows carried over (an incremental run of a
file source: funnel.incremental decides which). With them go the incremental bookkeeping (the
row hashes and fingerprint of each file source), the API sources' watermarks, the day's
snapshot changes and the log's `loaded` status.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time

import duckdb
import polars as pl

from funnel import snapshots, state
from funnel.config import FunnelConfig, SourceConfig
from funnel.extract import Extract, lineage_parts
from funnel.hygiene import record_ids
from funnel.incremental import PRIOR_SCHEMA, StoredRowChanges
from funnel.quality.checks import BIRTH_FIELDS, EVENT_FIELDS
from funnel.quality.validate import EntityOutcome, SourceOutcome
from funnel.read import SourceLoad
from transforms.schema import ENTITIES, raw_table_name

#: Carried rows (all sources) whose lines a load writes in its own transaction; more are staged
#: and written after it (`stage_lines`), as DuckDB holds a transaction's updates in memory.
IN_PLACE_ROWS = 6_000_000


def load_run(
    config: FunnelConfig,
    run_id: str,
    as_of: date,
    outcomes: Sequence[EntityOutcome],
    loads: Sequence[SourceLoad],
) -> None:
    """Replace each source's rows (an incremental pull: the pulled records' rows; an incremental
    file source: the rows that are not carried), store the file sources' row hashes, advance the
    API sources' watermarks, append the day's snapshot changes and point the carried rows at
    tonight's file and line (many are staged instead, and applied after the commit), in one
    transaction. The run is then `loaded`."""
    with state.open_state(config.state_path) as con:
        con.begin()
        unstage_lines(con)
        _replace_rows(con, config, run_id, outcomes, loads)
        _store_row_hashes(con, run_id, as_of, outcomes, loads)
        _advance_watermarks(con, run_id, loads)
        # the snapshot comparison reads every record: its own allowance beyond what is held,
        # and at least what the models may use
        state.limit_memory_growth(
            con, state.LOAD_MEMORY, at_least=config.warehouse.memory_limit_bytes
        )
        snapshots.record_load(con, run_id, as_of)
        _point_carried_rows(con, loads)  # last: these updates stay in memory until the commit
        state.mark_status(con, run_id, "loaded")  # published once its publish has happened
        con.commit()
        apply_lines(con)  # a transaction per staged part (see stage_lines)


def _replace_rows(
    con: duckdb.DuckDBPyConnection,
    config: FunnelConfig,
    run_id: str,
    outcomes: Sequence[EntityOutcome],
    loads: Sequence[SourceLoad],
) -> None:
    """Delete the rows that do not stay, then insert tonight's loaded rows."""
    for s in loads:
        if s.carries and s.changes is not None:
            drop_replaced(con, s.cleaned.source, s.changes)
    state.load_rows(
        con,
        run_id,
        outcomes,
        [s.name for s in config.sources],
        {s.name: record_ids(s.cleaned) for s in loads if s.cleaned.extract.incremental},
        carried=[s.name for s in loads if s.carries],
    )


def _store_row_hashes(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    as_of: date,
    outcomes: Sequence[EntityOutcome],
    loads: Sequence[SourceLoad],
) -> None:
    """Each file source's row hashes and fingerprint as of tonight; other sources' are dropped."""
    files = {s.name: s for s in loads if s.changes is not None and s.fingerprint is not None}
    for outcome in outcomes:
        for o in outcome.sources:
            s = files.get(o.source)
            if s is not None and s.changes is not None and s.fingerprint is not None:
                loaded = newly_loaded(o, s.cleaned.extract)
                store(con, run_id, as_of, s.cleaned.source, s.fingerprint, s.changes, loaded)
    forget_others(con, list(files))


def _advance_watermarks(
    con: duckdb.DuckDBPyConnection, run_id: str, loads: Sequence[SourceLoad]
) -> None:
    """The API sources' watermarks: where their next pull of changes starts."""
    for load in loads:
        watermark = load.cleaned.extract.watermark
        if watermark is not None:
            s = load.cleaned.source
            state.set_watermark(con, run_id, s.name, s.entity, s.format, watermark)


def _point_carried_rows(con: duckdb.DuckDBPyConnection, loads: Sequence[SourceLoad]) -> None:
    """The carried rows' lines for tonight: few are written in the transaction, many staged
    (`stage_lines`) and written after it."""
    carried = [(s.cleaned.source, s.changes) for s in loads if s.carries and s.changes is not None]
    in_place = lines_in_place(c for _, c in carried)
    if in_place:
        state.lift_memory_limit(con)  # these updates cannot spill (see relineage)
    place = relineage if in_place else stage_lines
    for source, changes in carried:
        place(con, source, changes)


def drop_replaced(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, changes: StoredRowChanges
) -> None:
    """Delete the source's raw rows that are not carried. Part of the load transaction."""
    table = f"raw_{source.entity}"
    dropped = changes.dropped  # noqa: F841 - read by DuckDB below
    con.execute(
        f"delete from {table} where source_system = ? and (source_row_hash is null"
        " or source_row_hash in (select row_hash from dropped))",
        [source.name],
    )


def lines_in_place(changes: Iterable[StoredRowChanges]) -> bool:
    """Whether the load writes the carried rows' lines for tonight in its own transaction (few
    carried rows: the fast way) rather than staging them (see `stage_lines`)."""
    return sum(c.kept.height for c in changes) <= IN_PLACE_ROWS


def relineage(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, changes: StoredRowChanges
) -> None:
    """Point the source's carried raw rows at tonight's file and line, in the load transaction
    (when `lines_in_place`). DuckDB holds these updates in memory until the commit and they do
    not spill: the caller lifts the transaction's memory limit first."""
    for part in range(len(changes.kept.paths)):
        kept = changes.kept.read(part).to_arrow(compat_level=pl.CompatLevel.newest())
        con.register("carried_lines", kept)
        try:
            _point_at(con, source.entity, "carried_lines", {"source": source.name})
        finally:
            con.unregister("carried_lines")


def stage_lines(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, changes: StoredRowChanges
) -> None:
    """Stage tonight's file and line of the source's carried rows in `state_pending_lines`
    (part of the load transaction); `apply_lines` writes them onto the raw rows after it.

    For many carried rows: DuckDB holds a transaction's updates in memory until it commits,
    130 bytes a row or more (7 GB for the carried rows of 10M leads), and nearly every carried row
    moves to another line when rows before it come or go. Staged rows are inserts, which DuckDB
    writes to disk; applied a part per transaction, the updates never pile up."""
    for part in range(len(changes.kept.paths)):
        kept = changes.kept.read(part)  # noqa: F841 - read by DuckDB below
        con.execute(
            "insert into state_pending_lines select ?, ?, ?, _hash, _file, _line from kept",
            [source.name, source.entity, part],
        )


def unstage_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Drop lines an earlier load staged and did not apply (it stopped half-way): tonight's
    load supersedes them (carried rows get tonight's lines again, the others are replaced)."""
    con.execute("delete from state_pending_lines")


def apply_lines(con: duckdb.DuckDBPyConnection) -> int:
    """Write the staged lines onto the raw rows, a staged part (funnel.incremental.CARRY_ROWS
    rows) per transaction, each part's staged rows deleted as it commits; returns the parts
    applied.

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
    changes: StoredRowChanges,
    loaded: Iterable[pl.DataFrame],
) -> None:
    """Store what the source has loaded after tonight (in the load transaction): the carried
    rows' hashes stay, the dropped ones go (a full run: all go), tonight's loaded rows' come
    (`newly_loaded`'s parts)."""
    if changes.mode == "incremental":
        dropped = changes.dropped  # noqa: F841 - read by DuckDB below
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
