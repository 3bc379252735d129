"""The private state file: raw tables of loaded rows and the run log (DuckDB, read-write)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from funnel import redact
from transforms.schema import (
    DUCKDB_TYPES,
    ENTITIES,
    LINEAGE_COLUMNS,
    ROW_HASH_COLUMN,
    raw_table_ddl,
    raw_table_name,
)

if TYPE_CHECKING:
    # only annotations: the validation step imports the state's clock (funnel.quality.volume)
    from funnel.quality.validate import EntityOutcome

LOG_DDL = (
    """create table if not exists log_pipeline_runs (
        run_id varchar primary key, as_of date, started_at timestamp, ended_at timestamp,
        status varchar, exit_code integer, message varchar, alerts_sent integer default 0)""",
    # state files written before alerts were recorded per run
    "alter table log_pipeline_runs add column if not exists alerts_sent integer default 0",
    """create table if not exists log_run_sources (
        run_id varchar, source varchar, entity varchar, rows_read bigint, rows_loaded bigint,
        rows_quarantined bigint, rows_warned bigint, mode varchar, encoding varchar)""",
    # state files written before file sources ran incrementally: their runs were full
    "alter table log_run_sources add column if not exists mode varchar default 'full'",
    """create table if not exists log_dq_results (
        run_id varchar, source varchar, entity varchar, "check" varchar, column_name varchar,
        severity varchar, rows_checked bigint, rows_failed bigint, passed boolean,
        checked_at timestamp, details varchar)""",
    # state files written before checks said what they found in words (why a source-level
    # finding failed, a column's decimal mark, a source's newest record)
    "alter table log_dq_results add column if not exists details varchar",
    # state files written before the run log said which encoding a file source was read in
    "alter table log_run_sources add column if not exists encoding varchar",
    """create table if not exists state_watermarks (
        source varchar primary key, entity varchar, format varchar, watermark varchar,
        run_id varchar, updated_at timestamp)""",
    """create table if not exists log_dq_quarantine (
        run_id varchar, source varchar, entity varchar, source_file varchar, source_line bigint,
        reasons varchar, checks varchar[], original_row varchar, quarantined_at timestamp)""",
)
#: The pipeline's own snapshots (funnel.snapshots): every load, and the tracked state of leads
#: and opportunities as changes only, keyed by as-of day.
SNAPSHOT_DDL = (
    """create table if not exists state_loads (
        load_seq integer primary key, run_id varchar, as_of date, loaded_at timestamp,
        snapshot_rows bigint)""",
    """create table if not exists state_snapshots (
        kind varchar, id varchar, as_of date, load_seq integer, run_id varchar,
        present boolean, stage varchar, lead_id varchar, owner varchar, amount double,
        probability double, expected_close_date date, is_open boolean, created_at timestamp,
        closed_at timestamp, updated_at timestamp, forecast_category varchar)""",
    # state files written before snapshots tracked the forecast category
    "alter table state_snapshots add column if not exists forecast_category varchar",
)

#: What the last load of each file source loaded, for incremental runs (funnel.incremental).
INCREMENTAL_DDL = (
    """create table if not exists state_row_hashes (
        source varchar, row_hash ubigint, record_key varchar, warned boolean,
        as_of_bound boolean)""",
    """create table if not exists state_source_fingerprints (
        source varchar primary key, fingerprint varchar, as_of date, run_id varchar)""",
    # tonight's file and line of carried rows, staged by the load (funnel.incremental)
    """create table if not exists state_pending_lines (
        source varchar, entity varchar, part integer, row_hash ubigint, source_file varchar,
        source_line bigint)""",
)

LOG_TABLES = ("log_pipeline_runs", "log_run_sources", "log_dq_results", "log_dq_quarantine")


def now() -> datetime:
    """Wall-clock time for the run log (naive, local to the machine running the pipeline)."""
    return datetime.now().replace(microsecond=0)


@contextmanager
def open_state(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The state file, created with every table on first use; closed on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_tables(con)
        yield con
    finally:
        con.close()


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every table of the state file (raw, log, snapshot, incremental) that is not there yet."""
    for entity in ENTITIES.values():
        con.execute(raw_table_ddl(entity))
        for name, kind in entity.fields.items():  # fields added since the file was made
            con.execute(
                f"alter table {raw_table_name(entity.name)}"
                f" add column if not exists {name} {DUCKDB_TYPES[kind]}"
            )
        con.execute(
            f"alter table {raw_table_name(entity.name)}"
            f" add column if not exists {ROW_HASH_COLUMN} ubigint"
        )
    for ddl in (*LOG_DDL, *SNAPSHOT_DDL, *INCREMENTAL_DDL):
        con.execute(ddl)


#: DuckDB's memory, in bytes, for the load's snapshot comparison beyond what the load
#: transaction already holds (it spills past that): half of it ran out of memory on the largest
#: nights (docs/decisions.md). The comparison gets at least the configured
#: `[warehouse] memory_limit` (see `limit_memory_growth`).
LOAD_MEMORY = 2**30


def limit_memory_growth(con: duckdb.DuckDBPyConnection, allowance: int, at_least: int = 0) -> None:
    """Let DuckDB use `allowance` bytes beyond what it holds now, and at least `at_least` bytes
    in all, spilling to disk past that. What it holds stays allowed: a load transaction's
    updates cannot spill.

    `at_least`: what the comparison needs beyond what is held is not fixed: a large night
    whose export overwrote its files ran out with the allowance alone, and passed with the
    models' limit (`[warehouse] memory_limit`, what the run is sized for anyway) as the floor
    (docs/decisions.md)."""
    row = con.execute("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory()").fetchone()
    used = int(row[0]) if row else 0
    con.execute(f"set memory_limit = '{max(used + allowance, at_least)}B'")


def lift_memory_limit(con: duckdb.DuckDBPyConnection) -> None:
    """Back to DuckDB's own memory limit, for work that cannot spill to disk (a transaction's
    updates) and would fail under a tighter one."""
    con.execute("reset memory_limit")


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, as_of: date) -> None:
    con.execute(
        "insert into log_pipeline_runs (run_id, as_of, started_at, status, alerts_sent)"
        " values (?, ?, ?, 'running', 0)",
        [run_id, as_of, now()],
    )


def record_alert(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Count one delivered alert against the run (pipeline_runs.alerts_sent)."""
    con.execute(
        "update log_pipeline_runs set alerts_sent = coalesce(alerts_sent, 0) + 1 where run_id = ?",
        [run_id],
    )


def failed_checks(
    con: duckdb.DuckDBPyConnection, run_id: str
) -> list[tuple[str, str, str, int, int]]:
    """(source, check, severity, rows_failed, rows_checked) of the run's failed checks."""
    return con.execute(
        'select source, "check", severity, rows_failed, rows_checked from log_dq_results'
        " where run_id = ? and not passed"
        " order by source, case severity when 'error' then 0 when 'warn' then 1 else 2 end,"
        ' rows_failed desc, "check"',
        [run_id],
    ).fetchall()


def published_days(con: duckdb.DuckDBPyConnection) -> list[tuple[date, str]]:
    """(as_of, run_id) of every published run, oldest first."""
    return con.execute(
        "select as_of, run_id from log_pipeline_runs where status = 'published'"
        " order by started_at, run_id"
    ).fetchall()


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    exit_code: int | None,
    message: str = "",
) -> None:
    """The run's outcome; the message redacted (funnel.redact), as every text the log keeps."""
    con.execute(
        "update log_pipeline_runs set ended_at = ?, status = ?, exit_code = ?, message = ?"
        " where run_id = ?",
        [now(), status, exit_code, redact.redact(message) or None, run_id],
    )


def mark_status(con: duckdb.DuckDBPyConnection, run_id: str, status: str) -> None:
    """A step of a run that goes on: `loaded` (its rows are in the state; ended_at is set
    then, as the published pipeline_runs shows it), `publishing` (its build is being moved onto
    the warehouse), `published` (it was). Exit code 0, message kept."""
    con.execute(
        "update log_pipeline_runs set status = ?, exit_code = 0,"
        " ended_at = case when ? then ? else ended_at end where run_id = ?",
        [status, status == "loaded", now(), run_id],
    )


def record_quality(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    outcomes: Iterable[EntityOutcome],
    modes: Mapping[str, str] | None = None,
) -> None:
    """Append the run's check results, quarantined rows and per-source row counts (with each
    source's mode: 'full', or 'incremental' when it processed new or changed rows only)."""
    modes = modes or {}
    stamp = now()
    for outcome in outcomes:
        results = outcome.results.with_columns(  # noqa: F841 - read by DuckDB below
            pl.lit(run_id).alias("run_id"), pl.lit(stamp).alias("checked_at")
        )
        con.execute(
            'insert into log_dq_results (run_id, source, entity, "check", column_name, severity,'
            " rows_checked, rows_failed, passed, checked_at, details) select run_id, source,"
            ' entity, "check", column_name, severity, rows_checked, rows_failed, passed,'
            " checked_at, details from results"
        )
        quarantine = redact.redact_columns(  # noqa: F841
            outcome.quarantine, ("reasons", "original_row")
        ).with_columns(pl.lit(run_id).alias("run_id"), pl.lit(stamp).alias("quarantined_at"))
        con.execute(
            "insert into log_dq_quarantine select run_id, source, entity, source_file,"
            " source_line, reasons, checks, original_row, quarantined_at from quarantine"
        )
        for s in outcome.sources:
            con.execute(
                "insert into log_run_sources (run_id, source, entity, rows_read, rows_loaded,"
                " rows_quarantined, rows_warned, mode, encoding)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    s.source,
                    s.entity,
                    s.rows_read,
                    s.rows_loaded,
                    s.rows_quarantined,
                    s.rows_warned,
                    modes.get(s.source, "full"),
                    s.encoding,
                ],
            )


def has_rows(con: duckdb.DuckDBPyConnection, source: str, entity: str) -> bool:
    """Whether the state holds loaded rows of the source (as this entity)."""
    row = con.execute(
        f"select exists (select 1 from {raw_table_name(entity)} where source_system = ?)", [source]
    ).fetchone()
    return bool(row and row[0])


def get_watermark(con: duckdb.DuckDBPyConnection, source: str, entity: str, fmt: str) -> str | None:
    """The source's last loaded watermark; None (a full pull is due) when there is none, when
    the source now has another entity or format, or when its raw rows are gone."""
    row = con.execute(
        "select watermark from state_watermarks where source = ? and entity = ? and format = ?",
        [source, entity, fmt],
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return str(row[0]) if has_rows(con, source, entity) else None


def set_watermark(
    con: duckdb.DuckDBPyConnection, run_id: str, source: str, entity: str, fmt: str, mark: str
) -> None:
    con.execute(
        "insert or replace into state_watermarks values (?, ?, ?, ?, ?, ?)",
        [source, entity, fmt, mark, run_id, now()],
    )


def upsert_key(entity: str) -> str:
    """What identifies a record's rows when an incremental pull replaces them."""
    id_field = ENTITIES[entity].id_field
    return id_field or "coalesce(opportunity_id, lead_id)"


def load_rows(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    outcomes: Iterable[EntityOutcome],
    configured_sources: Iterable[str],
    incremental: Mapping[str, Sequence[str]] | None = None,
    carried: Collection[str] = (),
) -> None:
    """Replace each source's rows in its raw table with this run's rows.

    Rows of sources no longer in the config are dropped, so the state mirrors the config and a
    second run over the same files leaves the same rows (no duplicates). A source named in
    `incremental` (an API pull of changes only) keeps its other rows: only the rows of the
    records it pulled (ids given) are replaced. A source named in `carried` (an incremental run
    of a file source) had its rows that do not stay deleted already (funnel.incremental): its
    loaded rows are added. A file source's rows carry their `_hash` (funnel.incremental) into
    `source_row_hash`; other sources' rows have none.
    """
    incremental = incremental or {}
    keep = list(configured_sources)
    con.execute("delete from state_watermarks where not list_contains(?, source)", [keep])
    for entity in ENTITIES.values():
        con.execute(
            f"delete from {raw_table_name(entity.name)} where not list_contains(?, source_system)",
            [keep],
        )
    for outcome in outcomes:
        for s in outcome.sources:
            entity = ENTITIES[s.entity]
            table = raw_table_name(entity.name)
            lineage = [c for c in LINEAGE_COLUMNS if c != "stage_label" or entity.has_stage]
            if s.source in carried:
                pass  # its rows that do not stay are gone already
            elif s.source in incremental:
                con.execute(
                    f"delete from {table} where source_system = ?"
                    f" and list_contains(?, {upsert_key(entity.name)})",
                    [s.source, list(incremental[s.source])],
                )
            else:
                con.execute(f"delete from {table} where source_system = ?", [s.source])
            cols = ", ".join([*entity.fields, *lineage, ROW_HASH_COLUMN])
            for loaded in s.loaded():
                row_hash = pl.col("_hash") if "_hash" in loaded.columns else pl.lit(None)
                # Handed to DuckDB as Arrow once (string views): DuckDB would otherwise convert
                # the polars frame itself, once per time the query looks at it. In one chunk:
                # the slice read back from its file comes in small chunks, and DuckDB keeps such
                # an insert's rows uncompressed until the state file is closed, then compresses
                # them all in one thread (in one chunk the insert compresses them as it writes).
                rows = loaded.select(
                    *entity.fields,
                    *(["stage_label"] if entity.has_stage else []),
                    pl.lit(s.source).alias("source_system"),
                    pl.col("_file").alias("source_file"),
                    pl.col("_line").alias("source_line"),
                    pl.lit(run_id).alias("run_id"),
                    row_hash.cast(pl.UInt64).alias(ROW_HASH_COLUMN),
                ).rechunk()
                del loaded
                rows = rows.to_arrow(compat_level=pl.CompatLevel.newest())
                con.execute(f"insert into {table} ({cols}) select {cols} from rows")
                del rows  # before the next slice is read
