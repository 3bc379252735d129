"""Frames written to disk between steps read back as they were; their files go with their owner."""

from __future__ import annotations

import gc
from datetime import datetime

import polars as pl
from polars.testing import assert_frame_equal

from funnel import rowfiles
from funnel.extract import REJECT_SCHEMA, Extract, lineage, original_rows, to_disk

FRAME = pl.DataFrame(
    {
        "_rid": [0, 1, 2, 3],
        "name": ["Ada", None, "Ünal", "x" * 40],  # inline, null, non-ASCII and long strings
        "amount": [1.5, None, 3.0, -2.25],
        "at": [datetime(2026, 1, 1, 9), None, datetime(1600, 1, 1), datetime(2026, 12, 31)],
        "tags": [["a"], [], None, ["b", "c"]],
    }
)


def test_rows_in_files_read_back_equal_and_their_files_go_with_them() -> None:
    parked = rowfiles.RowFiles("test")
    parked.write(FRAME.head(3))
    parked.write(FRAME.tail(1))
    paths = list(parked.paths)
    assert parked.heights == [3, 1] and all(p.exists() for p in paths)
    stored = rowfiles.KeptRows(parked)
    assert stored.height == 4 and stored.dropped is None
    assert_frame_equal(stored.read(), FRAME)
    assert_frame_equal(parked.pick(pl.Series([3, 0])), FRAME.filter(pl.col("_rid").is_in([0, 3])))
    assert_frame_equal(parked.read(1), FRAME.tail(1))
    kept = stored.scan().filter(pl.col("amount") > 0).select("_rid", "name").collect()
    assert kept.to_dicts() == [{"_rid": 0, "name": "Ada"}, {"_rid": 2, "name": "Ünal"}]
    del stored, parked
    gc.collect()
    assert not any(p.exists() for p in paths)


def test_an_extract_on_disk_keeps_only_row_ids_and_reads_the_rest_from_its_file() -> None:
    text = FRAME.select(
        "_rid",
        pl.col("name"),
        pl.col("amount").cast(pl.String),
        pl.lit("f.csv").alias("_file"),
        (pl.col("_rid") + 2).alias("_line"),
        (pl.col("_rid") * 7).cast(pl.UInt64).alias("_hash"),
    )
    extract = Extract("s", text, pl.DataFrame(schema=REJECT_SCHEMA), ("f.csv",))
    moved = to_disk(extract)
    assert moved.on_disk is not None and moved.rows.columns == ["_rid"]
    assert moved.rows_read == extract.rows_read == FRAME.height
    rids = pl.Series([3, 1], dtype=pl.Int64)
    from_disk = original_rows(moved, rids).sort("_rid")
    assert_frame_equal(from_disk, original_rows(extract, rids).sort("_rid"))
    assert from_disk.to_dicts() == [
        {"_rid": 1, "_file": "f.csv", "_line": 3, "original_row": '{"name":null,"amount":null}'},
        {
            "_rid": 3,
            "_file": "f.csv",
            "_line": 5,
            "original_row": '{"name":"' + "x" * 40 + '","amount":"-2.25"}',
        },
    ]
    hashes = lineage(moved, ["_hash"]).collect()
    assert_frame_equal(hashes, lineage(extract, ["_hash"]).collect())
    assert hashes.get_column("_hash").to_list() == [r * 7 for r in FRAME.get_column("_rid")]


def test_kept_rows_less_the_dropped_read_whole_or_a_slice_at_a_time() -> None:
    stored = rowfiles.KeptRows(
        rowfiles.write_temp(FRAME, "test"), pl.Series([1, 2], dtype=pl.Int64)
    )
    assert stored.height == 2
    assert stored.read().get_column("_rid").to_list() == [0, 3]
    # sliced before the dropped rows go: the second slice of two rows keeps one
    slices = [s.collect().get_column("_rid").to_list() for s in stored.slices(2)]
    assert slices == [[0], [3]]
