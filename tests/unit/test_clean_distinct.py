"""Category fields are normalised once per distinct value and mapped back: the same values as
normalising every row."""

from __future__ import annotations

import polars as pl

from transforms.clean import by_distinct_value, map_stage, normalise_category, stage_lookup


def test_category_values_normalise_as_they_do_row_by_row() -> None:
    values = ["Decision Maker", "TRUE", "1", "no", "F", None, "  Economic--Buyer ", "x", "Y", ""]
    s = pl.Series("authority", values * 30, dtype=pl.String)
    frame = s.to_frame()
    got = frame.select(by_distinct_value(s, normalise_category)).to_series()
    assert got.to_list() == frame.select(normalise_category("authority")).to_series().to_list()
    assert got.to_list()[:10] == [
        "decision_maker",
        "yes",
        "yes",
        "no",
        "no",
        None,
        "economic_buyer",
        "yes",
        "yes",
        "",
    ]


def test_an_all_blank_column_stays_blank() -> None:
    s = pl.Series("need", [None, None], dtype=pl.String)
    got = s.to_frame().select(by_distinct_value(s, normalise_category)).to_series()
    assert got.to_list() == [None, None]
    assert got.dtype == pl.String


def test_stage_labels_map_once_per_label_as_they_do_row_by_row() -> None:
    stages = {"Closed Won": "won", " Discovery Meeting ": "meeting", "Nurture": "prospecting"}
    labels = ["Closed Won", "closed won ", "NEGOTIATION", "post sale", "Post_Sale", "Nurture"]
    labels += ["Stalled??", "", "  ", "DISCOVERY meeting", "won", None]
    frame = pl.DataFrame({"stage": labels * 25, "_rid": range(len(labels) * 25)})
    lookup = stage_lookup(stages)
    reference = frame.with_columns(
        pl.col("stage").alias("stage_label"),
        pl.col("stage")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(lookup, default=None, return_dtype=pl.String)
        .alias("stage"),
    )
    got = map_stage(frame, stages)
    assert got.equals(reference)
    assert got.get_column("stage").to_list()[:12] == [
        "won",
        "won",
        "negotiation",
        "post_sale",
        "post_sale",
        "prospecting",
        None,
        None,
        None,
        "meeting",
        "won",
        None,
    ]
