"""Rows that wait on disk between two steps of a run, so a slice of one source's rows is in
memory at a time, not sources whole (at 10M leads the leads' text is 3.3 GB, their cleaned rows
3 GB).

A parked frame is an uncompressed Arrow IPC file in the temporary folder, written and read back
at disk speed (LZ4 took twice as long both ways), often a batch at a time (`Appender`); a step
that picks a few rows maps the file instead (`mapped`) and touches little more than their
pages. The file is removed when its owner is garbage-collected, or at exit.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polars as pl
import pyarrow as pa


def temp_path(label: str) -> Path:
    """A new empty temporary file for an Arrow IPC file (the caller removes it)."""
    fd, name = tempfile.mkstemp(prefix=f"funnel-{label}-", suffix=".arrow")
    os.close(fd)
    return Path(name)


def write_temp(frame: pl.DataFrame, label: str) -> Path:
    """The frame in a new temporary Arrow IPC file (the caller removes it: see `remove_with`)."""
    path = temp_path(label)
    try:
        with Appender(path) as out:
            out.write(frame)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


#: Rows per record batch of an appended file.
BATCH_ROWS = 1 << 20


class Appender:
    """Frames of the same columns written one after another into one Arrow IPC file (with
    no frame: a file of no columns)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self._writer is None:
            self._schema = table.schema
            self._writer = pa.ipc.new_file(str(self.path), table.schema)
        elif table.schema != self._schema:  # a slice's all-null column, say
            table = table.cast(self._schema)
        # in batches: a reader of a slice reads each batch it touches whole
        self._writer.write_table(table, max_chunksize=BATCH_ROWS)

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is None:
            self._writer = pa.ipc.new_file(str(self.path), pa.schema([]))
        self._writer.close()


def remove_with(owner: object, path: Path) -> None:
    """Remove `path` once `owner` is garbage-collected (or at exit)."""
    weakref.finalize(owner, partial(path.unlink, missing_ok=True))


@dataclass(frozen=True, eq=False)
class Stored:
    """Rows parked in an Arrow IPC file until a step reads them, less the rows whose `_rid` is
    in `dropped`."""

    path: Path
    #: Rows kept (not dropped).
    height: int = 0
    dropped: pl.Series | None = None

    def read(self) -> pl.DataFrame:
        """The rows, read back into memory (not mapped: a step that reads every row would
        hold the file's pages and its own copy at once)."""
        return self.scan().collect()

    def scan(self) -> pl.LazyFrame:
        """The rows as a lazy frame: a query reads only what it keeps."""
        return self._kept(pl.scan_ipc(self.path))

    def slices(self, size: int) -> Iterator[pl.LazyFrame]:
        """The rows a slice of the file at a time, at least one slice even when empty (sliced
        before the dropped rows go: a slice's query reads only its own part of the file)."""
        total = self.height + (self.dropped.len() if self.dropped is not None else 0)
        for start in range(0, max(total, 1), size):
            yield self._kept(pl.scan_ipc(self.path).slice(start, size))

    def _kept(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        if self.dropped is None:
            return rows
        return rows.filter(~pl.col("_rid").is_in(self.dropped.implode()))


def picked(path: Path, rids: pl.Series, columns: list[str] | None = None) -> pl.DataFrame:
    """The rows of an Arrow IPC file whose `_rid` is in `rids` (those columns), read over the
    file's memory map: only the `_rid` column and the picked rows' pages are touched (a whole
    column converted to polars would read all of it)."""
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    ids = pl.from_arrow(table.column("_rid"))
    assert isinstance(ids, pl.Series)
    positions = ids.is_in(rids.implode()).arg_true().to_arrow()
    chosen = table.take(positions)
    frame = pl.from_arrow(chosen if columns is None else chosen.select(columns))
    assert isinstance(frame, pl.DataFrame)
    return frame


def parked(path: Path, rows: int, dropped: pl.Series) -> Stored:
    """The rows of an Arrow IPC file less those dropped; the file goes with the result."""
    out = Stored(path, rows - dropped.len(), dropped if dropped.len() else None)
    remove_with(out, path)
    return out
