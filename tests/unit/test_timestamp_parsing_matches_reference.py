"""parse_timestamps tries its first format on the whole column and narrows the rest without
gathering again: every value must parse exactly as trying each format on the still-unparsed
values one by one (the straightforward way, kept here as the reference) does."""

from __future__ import annotations

import random
from datetime import datetime

import polars as pl
import pytest

from transforms.parse import ISO_NAIVE, ISO_OFFSET, _iso_folded, _try_format, parse_timestamps

US = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"]


def reference(s: pl.Series, formats: list[str], timezone: str) -> pl.Series:
    """Each format in turn on the values no earlier format read (one value at a time)."""
    candidates = [(f, False) for f in formats] + [(f, True) for f in (*ISO_NAIVE, *ISO_OFFSET)]
    out: list[datetime | None] = []
    for value in s.to_list():
        got = None
        if value is not None:
            for fmt, folded in candidates:
                one = pl.Series(s.name, [value], dtype=pl.String)
                parsed = _try_format(_iso_folded(one) if folded else one, fmt, timezone)
                if parsed[0] is not None:
                    got = parsed.cast(pl.Datetime("us"))[0]
                    break
        out.append(got)
    return pl.Series(s.name, out, dtype=pl.Datetime("us"))


MIXED = [
    "2024-01-02 10:11:12",
    "2024-01-02",
    "01/31/2024 08:00:00",
    "01/31/2024",
    "2024-01-02T10:11:12.5",
    "2024-01-02T10:11:12+02:00",
    "2024-07-02T10:11:12Z",
    "2024-01-02 10:11",
    "2024-01-02 10:11-05:00",
    "31.01.2024",  # no declared format: stays null
    "not a date",
    "13/45/2024",
    "",
    None,
]


@pytest.mark.parametrize(
    ("formats", "timezone"),
    [(US, "UTC"), (US, "Europe/Berlin"), ([], "America/New_York"), (["%d.%m.%Y"], "UTC")],
)
def test_mixed_formats_offsets_blanks_and_bad_values_parse_as_one_by_one(
    formats: list[str], timezone: str
) -> None:
    rng = random.Random(7)
    values = [rng.choice(MIXED) for _ in range(400)]
    s = pl.Series("created_at", values, dtype=pl.String)
    got = parse_timestamps(s, formats, timezone)
    assert got.name == "created_at"
    assert got.dtype == pl.Datetime("us")
    assert got.to_list() == reference(s, formats, timezone).to_list()


def test_a_column_of_the_first_format_only_and_one_with_nothing_parseable() -> None:
    iso = pl.Series("t", ["2024-01-02 10:11:12", None, "2023-12-31 23:59:59"])
    assert parse_timestamps(iso, US, "UTC").to_list() == [
        datetime(2024, 1, 2, 10, 11, 12),
        None,
        datetime(2023, 12, 31, 23, 59, 59),
    ]
    for s in (
        pl.Series("t", ["nope", "", None], dtype=pl.String),
        pl.Series("t", [None, None], dtype=pl.String),
        pl.Series("t", [], dtype=pl.String),
    ):
        got = parse_timestamps(s, US, "UTC")
        assert got.dtype == pl.Datetime("us")
        assert got.to_list() == [None] * len(s)


def test_an_offset_format_first_still_converts_to_the_warehouse_zone() -> None:
    s = pl.Series("t", ["2024-01-02 10:00:00+0200", "2024-01-02 10:00:00", "x"])
    got = parse_timestamps(s, ["%Y-%m-%d %H:%M:%S%z"], "Europe/Berlin")
    assert got.to_list() == [datetime(2024, 1, 2, 9), datetime(2024, 1, 2, 10), None]
    assert got.to_list() == reference(s, ["%Y-%m-%d %H:%M:%S%z"], "Europe/Berlin").to_list()
