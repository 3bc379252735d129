"""Read a file source into a text frame with file and line of every row; keep broken rows."""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from funnel import parking
from funnel.config import FunnelConfig, SourceConfig
from funnel.errors import ConfigError


@dataclass(frozen=True)
class Extract:
    """Every row a source gave: parsed rows as text, and rows the CSV reader had to reject."""

    source: str
    #: The file's own columns as text, plus `_rid` (row id in this extract), `_file`, `_line`
    #: (and, for file sources, `_hash` and `_key`: see funnel.incremental).
    rows: pl.DataFrame
    #: Structurally broken rows: `_file`, `_line`, `check`, `reason`, `original_row`.
    rejects: pl.DataFrame
    files: tuple[str, ...]
    #: API sources: the watermark this pull reached (stored when the run loads).
    watermark: str | None = None
    #: API sources: True when only records changed since the last watermark were pulled.
    incremental: bool = False
    #: Once cleaned, the source's rows (text and lineage) wait in this temporary Arrow file
    #: (see `spill`) and `rows` keeps only `_rid`.
    spilled: Path | None = None
    #: An incremental run (funnel.incremental): `rows` holds only the rows processed tonight;
    #: this many other rows of the export were loaded before as they are and stay loaded.
    carried: int = 0
    #: Of the carried rows, those that failed a warn check when they were loaded.
    carried_warned: int = 0

    @property
    def rows_read(self) -> int:
        return self.rows.height + self.rejects.height + self.carried


#: Rows DuckDB hands over at a time while reading a CSV file.
READ_BATCH_ROWS = 1_000_000
REJECT_SCHEMA = pl.Schema(
    {
        "_file": pl.String,
        "_line": pl.Int64,
        "check": pl.String,
        "reason": pl.String,
        "original_row": pl.String,
    }
)


def read_header(path: Path, source: SourceConfig) -> list[str]:
    """The header row, read the way DuckDB will (BOM stripped, the source's delimiter)."""
    encoding = "utf-8-sig" if source.encoding == "utf-8" else source.encoding
    try:
        with path.open(encoding=encoding, newline="") as fh:
            header = next(csv.reader(fh, delimiter=source.delimiter), None)
    except UnicodeError as e:
        raise ConfigError(f"{path}: not readable as {source.encoding}: {e}") from e
    if not header:
        raise ConfigError(f"{path}: the file is empty (no header row)")
    return [h.strip() for h in header]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _record_lines(path: Path, source: SourceConfig, records: int) -> pl.Series:
    """The 1-based line on which each data record starts.

    When the file has one physical line per record (the usual case) that is 2, 3, ...; blank
    lines or quoted line breaks make the csv module walk the file to find where records start.
    """
    physical, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            physical += chunk.count(b"\n")
            last = chunk[-1:]
    physical += 0 if last == b"\n" else 1
    if physical == records + 1:
        return pl.int_range(2, records + 2, dtype=pl.Int64, eager=True)
    encoding = "utf-8-sig" if source.encoding == "utf-8" else source.encoding
    starts: list[int] = []
    with path.open(encoding=encoding, newline="", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=source.delimiter)
        next(reader, None)
        end = reader.line_num
        for record in reader:
            if record:
                starts.append(end + 1)
            end = reader.line_num
    return pl.Series(starts, dtype=pl.Int64)


def _frame(batch: pa.RecordBatch | pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def read_csv_file(path: Path, source: SourceConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One CSV file as text, with DuckDB's reader; rows it cannot split go to the rejects."""
    header = _unique(read_header(path, source))
    con = duckdb.connect()
    try:
        rel = con.sql(
            "select * from read_csv($path, header = true, auto_detect = false, columns = $cols,"
            " delim = $delim, quote = '\"', escape = '\"', encoding = $enc,"
            " store_rejects = true, rejects_table = 'rejects', rejects_scan = 'reject_scans',"
            " max_line_size = 10000000)",
            params={
                "path": str(path),
                "cols": dict.fromkeys(header, "VARCHAR"),
                "delim": source.delimiter,
                "enc": source.encoding,
            },
        )
        # batch by batch: materialised whole first, the rows briefly took twice their room
        reader = rel.to_arrow_reader(READ_BATCH_ROWS)
        frames = [_frame(b) for b in reader] or [_frame(reader.schema.empty_table())]
        rows = pl.concat(frames, rechunk=False)
        rejects = con.sql(
            "select line, coalesce(column_name, '') as column_name, error_type, csv_line,"
            " error_message from rejects order by line"
        ).pl()
    except duckdb.Error as e:
        raise ConfigError(f"{path}: cannot be read as CSV: {e}") from e
    finally:
        con.close()
    rejected_lines = rejects.get_column("line").cast(pl.Int64).unique()
    lines = _record_lines(path, source, rows.height + rejected_lines.len())
    accepted = lines.filter(~lines.is_in(rejected_lines.implode())).head(rows.height)
    rows = rows.with_columns(pl.lit(str(path)).alias("_file"), accepted.alias("_line"))
    reject_frame = rejects.select(
        pl.lit(str(path)).alias("_file"),
        pl.col("line").cast(pl.Int64).alias("_line"),
        pl.lit("csv_structure").alias("check"),
        pl.when(pl.col("column_name") == "")
        .then(pl.col("error_message"))
        .otherwise(pl.format("{} (column {})", pl.col("error_message"), pl.col("column_name")))
        .alias("reason"),
        pl.col("csv_line").alias("original_row"),
    )
    # one row per line, with its first error: DuckDB reports a short line once per missing
    # column ("Found: 2", "Found: 3", ...), which counted the line as that many rows read
    one_per_line = reject_frame.unique(["_file", "_line"], keep="first", maintain_order=True)
    return rows, one_per_line.cast(REJECT_SCHEMA)


def extract_files(config: FunnelConfig, source: SourceConfig) -> Extract:
    """Every file of a CSV source, stacked; `_rid` numbers the rows across files."""
    files = config.source_files(source)
    frames, rejects = [], []
    for path in files:
        rows, rej = read_csv_file(path, source)
        frames.append(rows)
        rejects.append(rej)
    rows_all = pl.concat(frames, how="diagonal_relaxed").with_row_index("_rid")
    return Extract(
        source=source.name,
        rows=rows_all.with_columns(pl.col("_rid").cast(pl.Int64)),
        rejects=pl.concat(rejects),
        files=tuple(str(f) for f in files),
    )


def spill(extract: Extract) -> Extract:
    """The extract with its rows parked in a temporary file (funnel.parking), text and lineage
    alike; only `_rid` stays in memory.

    Once a source is cleaned its rows are only needed for the few that end in quarantine
    (`original_rows`) and, at the load, for the hashes of the rows loaded (`lineage`), both
    read from the file. So they need not stay in memory: at 1M leads the four sources' text
    is 1.5 GB, and their lineage 0.3 GB more for as long as the run goes on.
    """
    if extract.spilled is not None:
        return extract
    path = parking.write_temp(extract.rows, extract.source)
    slim = replace(extract, rows=extract.rows.select("_rid"), spilled=path)
    parking.remove_with(slim, path)
    return slim


def lineage(extract: Extract, columns: list[str]) -> pl.LazyFrame:
    """`_rid` and those columns of every row (read from the file of a spilled extract)."""
    rows = pl.scan_ipc(extract.spilled) if extract.spilled else extract.rows.lazy()
    return rows.select("_rid", *columns)


def original_rows(extract: Extract, rids: pl.Series) -> pl.DataFrame:
    """`_rid`, `_file`, `_line` and the source's own columns as a JSON object text of those
    rows.

    A spilled source's file is memory-mapped and only the picked rows are copied out, so picking
    a few quarantined rows does not read the whole text back (500 MB for 2M activities)."""
    rows = parking.mapped(extract.spilled) if extract.spilled else extract.rows
    # gathered by position: a filter reads every row of every column, and so every page of
    # the mapped file (the whole text in memory again, 3 GB for 10M leads)
    picked = rows.get_column("_rid").is_in(rids.implode()).arg_true()
    return _as_json(rows[picked])


def _as_json(rows: pl.DataFrame) -> pl.DataFrame:
    own = [c for c in rows.columns if not c.startswith("_")]
    return rows.select(
        "_rid", "_file", "_line", pl.struct(own).struct.json_encode().alias("original_row")
    )
