"""Rows that wait on disk between two steps of a run, so a slice of one source's rows is in
memory at a time, not sources whole.

The rows go to uncompressed Arrow IPC files in the temporary folder, written by polars a slice
at a time (`RowFiles`), so polars reads them back at disk speed without converting them
(compressed files, and files written by pyarrow, were slower: docs/decisions.md).
The files are removed when their owner is garbage-collected, or at exit.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import polars as pl


def temp_path(label: str) -> Path:
    """A new empty temporary file (the caller removes it: see `remove_with`)."""
    fd, name = tempfile.mkstemp(prefix=f"funnel-{label}-", suffix=".arrow")
    os.close(fd)
    return Path(name)


def remove_with(owner: object, path: Path) -> None:
    """Remove `path` once `owner` is garbage-collected (or at exit)."""
    weakref.finalize(owner, partial(path.unlink, missing_ok=True))


@dataclass(frozen=True, eq=False)
class RowFiles:
    """Rows in temporary Arrow IPC files, one file per slice written (`write`), removed
    together when this goes."""

    label: str
    paths: list[Path] = field(default_factory=list)
    #: Rows in each file.
    heights: list[int] = field(default_factory=list)

    def write(self, frame: pl.DataFrame) -> None:
        path = temp_path(self.label)
        remove_with(self, path)
        frame.write_ipc(path, compression="uncompressed")
        self.paths.append(path)
        self.heights.append(frame.height)

    @property
    def height(self) -> int:
        return sum(self.heights)

    def scan(self) -> pl.LazyFrame:
        """The rows as a lazy frame: a query reads only what it keeps."""
        return pl.scan_ipc(self.paths)

    def read(self, i: int, columns: list[str] | None = None) -> pl.DataFrame:
        """The rows of the i-th file (those columns only, if given)."""
        return pl.read_ipc(self.paths[i], columns=columns)

    def pick(self, rids: pl.Series, columns: list[str] | None = None) -> pl.DataFrame:
        """Those columns (default: all) of the rows whose `_rid` is in `rids`, a file at a
        time and within it a record batch at a time: little more than a batch is in memory.
        (Over a memory map, polars' conversion of the strings reads every page of the file,
        which then counts as resident.)"""
        wanted = rids.implode()
        picked = (pl.scan_ipc(path).filter(pl.col("_rid").is_in(wanted)) for path in self.paths)
        return pl.concat(
            [p.collect() if columns is None else p.select(columns).collect() for p in picked]
        )


def write_temp(frame: pl.DataFrame, label: str) -> RowFiles:
    """The frame parked in one file."""
    parked = RowFiles(label)
    parked.write(frame)
    return parked


@dataclass(frozen=True, eq=False)
class KeptRows:
    """The rows of `files` until a step reads them, less the rows whose `_rid` is in `dropped`."""

    files: RowFiles
    dropped: pl.Series | None = None

    @property
    def height(self) -> int:
        """Rows kept (not dropped)."""
        return self.files.height - (self.dropped.len() if self.dropped is not None else 0)

    def read(self) -> pl.DataFrame:
        """The rows, read back into memory (not mapped: a step that reads every row would
        hold the files' pages and its own copy at once)."""
        return self.scan().collect()

    def scan(self) -> pl.LazyFrame:
        """The rows as a lazy frame: a query reads only what it keeps."""
        return self._kept(self.files.scan())

    def slices(self, size: int) -> Iterator[pl.LazyFrame]:
        """The rows a slice of the files at a time, at least one slice even when empty (sliced
        before the dropped rows go: a slice's query reads only its own part of the files)."""
        for start in range(0, max(self.files.height, 1), size):
            yield self._kept(self.files.scan().slice(start, size))

    def _kept(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        if self.dropped is None or self.dropped.is_empty():
            return rows
        return rows.filter(~pl.col("_rid").is_in(self.dropped.implode()))
