"""trim_blanks rewrites only the columns that hold a 'NULL'-like marker: every value must come
out as stripping and nulling every column (the straightforward way, kept here as the
reference) does."""

from __future__ import annotations

import random

import polars as pl

from transforms.clean import NULL_MARKERS, trim_blanks


def reference(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Every column stripped, then every marker nulled."""
    return frame.with_columns(
        pl.col(c)
        .str.strip_chars()
        .pipe(lambda s: pl.when(s.is_in(NULL_MARKERS)).then(None).otherwise(s))
        .alias(c)
        for c in columns
    )


VALUES = [
    "abc",
    " abc ",
    "\tx\n",
    "",
    "   ",
    "NULL",
    " null ",
    "nUlL",
    "N/A",
    " n/a",
    "na",
    "nullx",
    "none",
    "ünïcode ",
    "\u00a0nbsp\u00a0",
    None,
]


def test_columns_with_and_without_markers_come_out_as_the_reference() -> None:
    rng = random.Random(11)
    plain = [rng.choice(["a", " b", "c ", None, "d"]) for _ in range(500)]
    mixed = [rng.choice(VALUES) for _ in range(500)]
    only_ws = [rng.choice([" x", "y\t", "z"]) for _ in range(500)]
    frame = pl.DataFrame(
        {"plain": plain, "mixed": mixed, "only_ws": only_ws, "untouched": mixed, "_rid": range(500)}
    )
    columns = ["plain", "mixed", "only_ws"]
    got = trim_blanks(frame, columns)
    assert got.columns == frame.columns
    assert got.equals(reference(frame, columns))
    # a column not named stays as it was, markers and all
    assert got.get_column("untouched").equals(frame.get_column("untouched"))
    assert got.get_column("mixed").null_count() == sum(
        v is None or v.strip() == "" or v.strip().casefold() in ("null", "n/a") for v in mixed
    )


def test_every_marker_spelling_is_null_and_other_text_is_stripped() -> None:
    frame = pl.DataFrame({"v": [f"  {m} " for m in NULL_MARKERS] + [" keep me "]})
    got = trim_blanks(frame, ["v"]).get_column("v").to_list()
    assert got == [None] * len(NULL_MARKERS) + ["keep me"]


def test_no_columns_and_empty_frames() -> None:
    frame = pl.DataFrame({"v": [" a "]})
    assert trim_blanks(frame, []).equals(frame)
    empty = pl.DataFrame({"v": []}, schema={"v": pl.String})
    assert trim_blanks(empty, ["v"]).equals(empty)
