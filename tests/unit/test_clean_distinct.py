"""Category fields are normalised once per distinct value and mapped back: the same values as
normalising every row."""

from __future__ import annotations

import polars as pl

from transforms.clean import by_distinct_value, normalise_category


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
