"""Read a file source into text with file and line of every row (in memory, or onto disk
batch by batch when it is large); keep broken rows."""

from __future__ import annotations

import codecs
import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from funnel import encodings, rowfiles
from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors.api import pull_source
from funnel.connectors.base import text_frame
from funnel.connectors.presets import export_encoding, reshape_of
from funnel.encodings import FileEncoding
from funnel.errors import ConfigError


@dataclass(frozen=True)
class ExtractFiles:
    """A source's rows on disk in two sets of files, file by file the same rows in the same
    order: `text` holds `_rid` and the source's own columns, `lineage` holds `_rid`, `_file`,
    `_line` and, for file sources, `_hash` and `_key` (see funnel.incremental)."""

    text: rowfiles.RowFiles
    lineage: rowfiles.RowFiles

    @property
    def header(self) -> list[str]:
        """The source's own columns."""
        return [c for c in self.text.scan().collect_schema().names() if c != "_rid"]


@dataclass(frozen=True)
class Extract:
    """Every row a source gave: parsed rows as text, and rows the CSV reader had to reject."""

    source: str
    #: The file's own columns as text, plus `_rid` (row id in this extract), `_file`, `_line`
    #: (and, for file sources, `_hash` and `_key`: see funnel.incremental); only `_rid` once
    #: the rows are on disk (`on_disk`).
    rows: pl.DataFrame
    #: Structurally broken rows: `_file`, `_line`, `check`, `reason`, `original_row`.
    rejects: pl.DataFrame
    files: tuple[str, ...]
    #: API sources: the watermark this pull reached (stored when the run loads).
    watermark: str | None = None
    #: True when the rows are changes only: an API pull of the records changed since the last
    #: watermark, or the files of a `changes_only` source after its first load. They replace
    #: the rows of their records; the source's other loaded rows stay.
    incremental: bool = False
    #: The rows on disk: a large file source's from the start (see `extract_files`), any
    #: source's once cleaned (`to_disk`); `rows` then keeps only `_rid` (an incremental run's:
    #: and `_fresh`).
    on_disk: ExtractFiles | None = None
    #: An incremental run (funnel.incremental): `rows` holds only the rows processed tonight;
    #: this many other rows of the export were loaded before as they are and stay loaded.
    carried: int = 0
    #: Of the carried rows, those that failed a warn check when they were loaded.
    carried_warned: int = 0
    #: File sources: the encoding the files were read in, as the run log shows it.
    encoding: str | None = None

    @property
    def rows_read(self) -> int:
        return self.rows.height + self.rejects.height + self.carried

    @property
    def header(self) -> list[str]:
        """The source's own columns."""
        return self.on_disk.header if self.on_disk else own_columns(self.rows)


def own_columns(rows: pl.DataFrame) -> list[str]:
    """A frame's columns of the source itself (not `_rid`, `_file`, `_hash`, ...)."""
    return [c for c in rows.columns if not c.startswith("_")]


#: A file source's row keys: from a batch of its rows as text, the lineage columns it adds.
RowKeys = Callable[[pl.DataFrame], pl.DataFrame]
#: A file source larger than this is read batch by batch onto disk, not into memory.
STREAM_BYTES = 1 << 30
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


def file_encoding(path: Path, source: SourceConfig) -> FileEncoding:
    """The encoding one file of the source is read in: the source's `encoding`, else detected
    (see funnel.encodings.detect), a preset's export encoding where the bytes are not UTF-8."""
    fallback = export_encoding(source.format, source.entity)
    return encodings.detect(path, source.encoding, fallback)


def read_header(
    path: Path, source: SourceConfig, encoding: FileEncoding | None = None
) -> list[str]:
    """The header row, read the way DuckDB will (BOM stripped, the source's delimiter)."""
    encoding = encoding or file_encoding(path, source)
    try:
        with path.open(
            encoding=encoding.python_codec, errors=encoding.python_errors, newline=""
        ) as fh:
            header = next(csv.reader(fh, delimiter=source.delimiter), None)
    except UnicodeError as e:
        raise ConfigError(f"{path}: not readable as {encoding.label}: {e}") from e
    if not header:
        raise ConfigError(f"{path}: the file is empty (no header row)")
    return [h.strip() for h in header]


def unique_names(names: list[str]) -> list[str]:
    """The header's names, a repeated one numbered (`Amount`, `Amount_2`) as the run reads it."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _record_lines(path: Path, source: SourceConfig, records: int, head: bool = False) -> pl.Series:
    """The 1-based line on which each data record starts.

    When the file has one physical line per record (the usual case) that is 2, 3, ...; blank
    lines or quoted line breaks make the csv module walk the file to find where records start.
    `head`: the records are the file's first ones only (`funnel check`): walked up to them.
    """
    physical, last = 0, b"\n"
    with path.open("rb") as fh:
        while not head and (chunk := fh.read(1 << 24)):
            physical += chunk.count(b"\n")
            last = chunk[-1:]
    physical += 0 if last == b"\n" else 1
    if physical == records + 1:
        return pl.int_range(2, records + 2, dtype=pl.Int64, eager=True)
    starts: list[int] = []
    # only where records start matters: bytes that are not UTF-8 (a Latin-1 file DuckDB reads
    # as it is) stand in as replacement characters; a UTF-16 file is read as UTF-16
    with path.open("rb") as raw:
        utf16 = raw.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    with path.open(encoding="utf-16" if utf16 else "utf-8-sig", newline="", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=source.delimiter)
        next(reader, None)
        end = reader.line_num
        for record in reader:
            if len(starts) == records:
                break
            if record:
                starts.append(end + 1)
            end = reader.line_num
    return pl.Series(starts, dtype=pl.Int64)


def _stream_csv(
    path: Path,
    source: SourceConfig,
    header: list[str],
    emit: Callable[[pa.RecordBatch], None],
    encoding: FileEncoding,
    limit: int | None = None,
) -> tuple[pl.Series, pl.DataFrame]:
    """Hand one CSV file's rows (`limit`: its first rows only) to `emit` as Arrow batches of
    text, read by DuckDB; return the line each row starts on and the rows the reader could not
    split (REJECT_SCHEMA)."""
    with encodings.readable(path, encoding) as readable:
        return _stream_readable(path, readable, source, header, emit, encoding, limit)


def _stream_readable(
    path: Path,
    readable: Path,
    source: SourceConfig,
    header: list[str],
    emit: Callable[[pa.RecordBatch], None],
    encoding: FileEncoding,
    limit: int | None = None,
) -> tuple[pl.Series, pl.DataFrame]:
    """`_stream_csv` of a file DuckDB can read (`readable`: the file, or its UTF-8 copy)."""
    con = duckdb.connect()
    rows = 0
    try:
        rel = con.sql(
            "select * from read_csv($path, header = true, auto_detect = false, columns = $cols,"
            " delim = $delim, quote = '\"', escape = '\"', encoding = $enc,"
            " store_rejects = true, rejects_table = 'rejects', rejects_scan = 'reject_scans',"
            " max_line_size = 10000000)" + ("" if limit is None else f" limit {int(limit)}"),
            params={
                "path": str(readable),
                "cols": dict.fromkeys(header, "VARCHAR"),
                "delim": source.delimiter,
                "enc": encodings.duckdb_encoding(encoding),
            },
        )
        for batch in rel.to_arrow_reader(READ_BATCH_ROWS):
            emit(batch)
            rows += batch.num_rows
        rejects = con.sql(
            "select line, coalesce(column_name, '') as column_name, error_type, csv_line,"
            " error_message from rejects order by line"
        ).pl()
    except duckdb.Error as e:
        raise ConfigError(f"{path}: cannot be read as CSV: {e}") from e
    finally:
        con.close()
    rejected_lines = rejects.get_column("line").cast(pl.Int64).unique()
    lines = _record_lines(readable, source, rows + rejected_lines.len(), limit is not None)
    accepted = lines.filter(~lines.is_in(rejected_lines.implode())).head(rows)
    if limit is not None and accepted.len():  # rejects past the first rows read do not count
        rejects = rejects.filter(pl.col("line").cast(pl.Int64) < accepted.max())
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
    return accepted, one_per_line.cast(REJECT_SCHEMA)


Reshape = Callable[[pl.DataFrame], pl.DataFrame]


def _read_files(
    source: SourceConfig,
    files: list[Path],
    reshape: Reshape | None = None,
    limit: int | None = None,
) -> Extract:
    """Every file of a CSV source (`limit`: the first rows of each) as one text frame in memory,
    `_rid` numbering the rows (after the preset's `reshape`, if any: its rows are the rows
    read)."""
    frames, rejects = [], []
    batches: list[pl.DataFrame] = []
    found = [file_encoding(path, source) for path in files]
    for path, encoding in zip(files, found, strict=True):
        header = unique_names(read_header(path, source, encoding))
        lines, rejected = _stream_csv(
            path, source, header, lambda b: batches.append(_frame(b)), encoding, limit
        )
        rows = pl.concat(batches, rechunk=False) if batches else _text_frame(header)
        batches.clear()
        rows = rows.with_columns(pl.lit(str(path)).alias("_file"), lines.alias("_line"))
        frames.append(reshape(rows) if reshape is not None else rows)
        rejects.append(rejected)
    rows = pl.concat(frames, how="diagonal_relaxed").with_row_index("_rid")
    return Extract(
        source=source.name,
        rows=rows.with_columns(pl.col("_rid").cast(pl.Int64)),
        rejects=pl.concat(rejects),
        files=tuple(str(f) for f in files),
        encoding=encodings.describe(found),
    )


def extract_api(
    source: SourceConfig,
    watermark: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Extract:
    """Pull one API source into an Extract (a full pull when `watermark` is None)."""
    pulled = pull_source(source, watermark, sleep)
    rows = text_frame(pulled.records, pulled.fields)
    rows = rows.with_row_index("_rid").with_columns(
        pl.col("_rid").cast(pl.Int64),
        pl.lit(pulled.endpoint).alias("_file"),
        (pl.col("_rid").cast(pl.Int64) + 1).alias("_line"),
    )
    return Extract(
        source=source.name,
        rows=rows,
        rejects=pl.DataFrame(schema=REJECT_SCHEMA),
        files=(pulled.endpoint,),
        watermark=pulled.watermark,
        incremental=pulled.incremental,
    )


def _text_frame(columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))


def extract_files(
    config: FunnelConfig, source: SourceConfig, keys: RowKeys | None = None
) -> Extract:
    """Every file of a CSV source, stacked, `_rid` numbering the rows across files.

    Files of more than STREAM_BYTES in all are parked on disk as DuckDB reads them (see
    ExtractFiles): about READ_BATCH_ROWS rows are in memory at a time, not the source's whole text,
    and `keys` adds a file source's `_hash` and `_key`
    (funnel.incremental.row_keys) to its lineage. Smaller ones are read into memory, which
    is faster (funnel.incremental.keyed adds the keys). A source whose preset reshapes its
    rows (funnel.connectors.ecb) is read into memory: such files are small."""
    files = config.source_files(source)
    reshape = reshape_of(source)
    if reshape is not None or sum(f.stat().st_size for f in files) <= STREAM_BYTES:
        return _read_files(source, files, reshape)
    return _stream_files(source, files, keys)


def extract_head(config: FunnelConfig, source: SourceConfig, rows: int) -> Extract:
    """The first `rows` rows of each file of a CSV source, read as a run reads them (what
    `funnel check` looks at)."""
    return _read_files(source, config.source_files(source), reshape_of(source), rows)


def _stream_files(source: SourceConfig, files: list[Path], keys: RowKeys | None) -> Extract:
    """Every file of a CSV source onto disk, about READ_BATCH_ROWS rows at a time (ExtractFiles)."""
    found = [file_encoding(path, source) for path in files]
    headers = [unique_names(read_header(p, source, e)) for p, e in zip(files, found, strict=True)]
    columns = list(dict.fromkeys(c for header in headers for c in header))
    text, lineage = (
        rowfiles.RowFiles(f"{source.name}-text"),
        rowfiles.RowFiles(f"{source.name}-lineage"),
    )
    rejects: list[pl.DataFrame] = []
    keyed: list[pl.DataFrame] = []  # this file's key columns, one frame per text file
    pending: list[pl.DataFrame] = []
    rows = 0

    def flush() -> None:
        """The pending batches as one text file (and their keys)."""
        nonlocal rows
        frame = pl.concat(pending, rechunk=False) if pending else _text_frame(columns)
        pending.clear()
        n = frame.height
        rid = pl.int_range(rows, rows + n, dtype=pl.Int64, eager=True).alias("_rid")
        text.write(frame.select(columns).insert_column(0, rid))
        keyed.append(keys(frame.select(columns)) if keys is not None else pl.DataFrame())
        rows += n

    for path, header, encoding in zip(files, headers, found, strict=True):
        first, start = rows, len(text.paths)

        def emit(batch: pa.RecordBatch) -> None:
            frame = _frame(batch)
            missing = [c for c in columns if c not in frame.columns]
            pending.append(frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing))
            if sum(f.height for f in pending) >= READ_BATCH_ROWS:
                flush()

        lines, rejected = _stream_csv(path, source, header, emit, encoding)
        if pending or len(text.paths) == start:  # the file's last rows (an empty file: none)
            flush()
        rejects.append(rejected)
        # the file's lineage, text file by text file (the lines are known once it is read)
        offset = first
        for n, part in zip(text.heights[start:], keyed, strict=True):
            where = pl.DataFrame(
                {
                    "_rid": pl.int_range(offset, offset + n, dtype=pl.Int64, eager=True),
                    "_file": pl.repeat(str(path), n, dtype=pl.String, eager=True),
                    "_line": lines.slice(offset - first, n),
                }
            )
            lineage.write(where.hstack(part) if keys is not None else where)
            offset += n
        keyed.clear()
    return Extract(
        source=source.name,
        rows=pl.DataFrame({"_rid": pl.int_range(0, rows, dtype=pl.Int64, eager=True)}),
        rejects=pl.concat(rejects),
        files=tuple(str(f) for f in files),
        on_disk=ExtractFiles(text, lineage),
        encoding=encodings.describe(found),
    )


def _frame(batch: pa.RecordBatch | pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def to_disk(extract: Extract) -> Extract:
    """The extract with its rows parked on disk (see ExtractFiles); only `_rid` stays in memory.

    Once a source is cleaned its rows are only needed for the few that end in quarantine
    (`original_rows`) and, at the load, for the hashes of the rows loaded (`lineage`), both
    read from the files. (A file source's rows are parked as they are read.)
    """
    if extract.on_disk is not None:
        return extract
    rows = extract.rows
    own = own_columns(rows)
    marks = [c for c in rows.columns if c.startswith("_") and c != "_rid"]
    files = ExtractFiles(
        rowfiles.write_temp(rows.select("_rid", *own), f"{extract.source}-text"),
        rowfiles.write_temp(rows.select("_rid", *marks), f"{extract.source}-lineage"),
    )
    return replace(extract, rows=rows.select("_rid"), on_disk=files)


def lineage(extract: Extract, columns: list[str]) -> pl.LazyFrame:
    """`_rid` and those lineage columns of every row (read from the files of a parked extract)."""
    rows = extract.on_disk.lineage.scan() if extract.on_disk else extract.rows.lazy()
    return rows.select("_rid", *columns)


def lineage_parts(extract: Extract, columns: list[str]) -> Iterator[pl.DataFrame]:
    """`lineage` a parked file at a time (an extract in memory: all at once), so a caller that
    joins on it holds one file's strings, not a whole source's."""
    if extract.on_disk is None:
        yield extract.rows.select("_rid", *columns)
        return
    parked = extract.on_disk.lineage
    for i in range(len(parked.paths)):
        yield parked.read(i, ["_rid", *columns])


def text_slices(extract: Extract, size: int) -> Iterator[pl.DataFrame]:
    """The extract's rows (of a narrowed one: those left in `rows`) with their own columns and
    lineage, about `size` rows at a time (a parked extract's: whole files of it); at least one
    frame, even when empty."""
    if extract.on_disk is None:
        for start in range(0, max(extract.rows.height, 1), size):
            yield extract.rows.slice(start, size)
        return
    wanted = extract.rows.get_column("_rid").implode() if extract.carried else None
    text, where = extract.on_disk.text, extract.on_disk.lineage
    files = list(range(len(text.paths)))
    while files:
        picked: list[int] = []
        held = 0
        while files and (not picked or held < size):
            picked.append(files.pop(0))
            held += text.heights[picked[-1]]
        rows = pl.concat(
            [
                text.read(i).hstack(
                    where.read(i).select(pl.exclude("_rid", "_key", "_probability", "^_marks_.*$"))
                )
                for i in picked
            ],
            rechunk=False,
        )
        yield rows if wanted is None else rows.filter(pl.col("_rid").is_in(wanted))


def original_rows(extract: Extract, rids: pl.Series) -> pl.DataFrame:
    """`_rid`, `_file`, `_line` and the source's own columns as a JSON object text of those
    rows.

    A parked source's files are read one at a time, and only the picked rows kept."""
    if extract.on_disk is None:
        rows = extract.rows
        return _as_json(rows[rows.get_column("_rid").is_in(rids.implode()).arg_true()])
    text = extract.on_disk.text.pick(rids)
    where = extract.on_disk.lineage.pick(rids, ["_rid", "_file", "_line"])
    return _as_json(text.join(where, on="_rid", how="left"))


def _as_json(rows: pl.DataFrame) -> pl.DataFrame:
    own = own_columns(rows)
    return rows.select(
        "_rid", "_file", "_line", pl.struct(own).struct.json_encode().alias("original_row")
    )
