"""Frames that wait on disk between two steps of a run, so one source's rows are in memory at a
time (at 1M leads the four sources' cleaned rows are 1.3 GB, their text 1.5 GB).

A parked frame is an uncompressed Arrow IPC file in the temporary folder, written and read back
at disk speed (LZ4 took twice as long both ways); a step that picks a few rows maps the file
instead (`mapped`) and touches little more than their pages. The file is removed when its owner
is garbage-collected, or at exit.
"""

from __future__ import annotations

import os
import tempfile
import weakref
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
        frame.write_ipc(path, compression="uncompressed")
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

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self._writer is None:
            self._writer = pa.ipc.new_file(str(self.path), table.schema)
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
    """A frame held in memory, or parked on disk until a step reads it."""

    frame: pl.DataFrame | None = None
    path: Path | None = None
    height: int = 0

    def read(self) -> pl.DataFrame:
        """The rows; a parked frame's read back into memory (not mapped: a step that reads
        every row would hold the file's pages and its own copy at once)."""
        return self.frame if self.frame is not None else self.scan().collect()

    def scan(self) -> pl.LazyFrame:
        """The rows as a lazy frame: a parked frame's query reads only what it keeps."""
        if self.frame is not None:
            return self.frame.lazy()
        assert self.path is not None
        return pl.scan_ipc(self.path)

    @property
    def parked(self) -> bool:
        return self.path is not None


def mapped(path: Path) -> pl.DataFrame:
    """An Arrow IPC file's rows over its memory map, for a step that picks a few rows: it reads
    only their pages (the buffers keep the map open)."""
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    return frame


def in_memory(frame: pl.DataFrame) -> Stored:
    return Stored(frame=frame, height=frame.height)


def park(stored: Stored, label: str) -> Stored:
    """The same rows, parked on disk (a parked frame stays as it is)."""
    if stored.frame is None:
        return stored
    path = write_temp(stored.frame, label)
    out = Stored(path=path, height=stored.height)
    remove_with(out, path)
    return out
