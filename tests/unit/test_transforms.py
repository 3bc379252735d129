"""Hygiene transforms on tiny frames: parsing, normalising, stage mapping, dedupe, mapping."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from transforms.clean import CleanOptions, clean, normalise_category, normalise_phone
from transforms.dedupe import dedupe
from transforms.mapping import to_canonical
from transforms.parse import parse_dates, parse_numbers, parse_timestamps
from transforms.schema import LEADS, OPPORTUNITIES, STAGE_HISTORY


def test_timestamps_in_every_spelling_land_in_the_warehouse_zone() -> None:
    s = pl.Series(
        [
            "2024-01-02 10:11:12",
            "2024-01-02T10:11:12.5",
            "2024-01-02",
            "2024-01-02T10:11:12+02:00",
            "2024-01-02T10:11:12Z",
            "01/31/2024",
            "31.01.2024",
            None,
        ]
    )
    got = parse_timestamps(s, ["%m/%d/%Y"], "Europe/Berlin").to_list()
    assert got == [
        datetime(2024, 1, 2, 10, 11, 12),
        datetime(2024, 1, 2, 10, 11, 12, 500000),
        datetime(2024, 1, 2),
        datetime(2024, 1, 2, 9, 11, 12),  # +02:00 -> Berlin winter time (+01:00)
        datetime(2024, 1, 2, 11, 11, 12),  # UTC -> Berlin
        datetime(2024, 1, 31),
        None,  # not a declared format: unparsed, the checks quarantine it
        None,
    ]


def test_date_only_values_never_shift_days() -> None:
    s = pl.Series(["2024-03-31", "2024-03-31T23:30:00Z"])
    assert parse_dates(s, [], "America/New_York").to_list() == [
        date(2024, 3, 31),
        date(2024, 3, 31),  # 19:30 in New York
    ]


def test_numbers_with_currency_thousands_and_decimal_comma() -> None:
    assert parse_numbers(
        pl.Series(["$1,234.50", "12 %", "(5.00)", "abc"]), decimal_comma=False
    ).to_list() == [
        1234.5,
        12.0,
        -5.0,
        None,
    ]
    assert parse_numbers(pl.Series(["1.234,50", "EUR 3,5"]), decimal_comma=True).to_list() == [
        1234.5,
        3.5,
    ]


def test_phone_and_category_normalising() -> None:
    f = pl.DataFrame(
        {
            "p": ["+1 (555) 010-2000", "555.010.2000", "call me"],
            "a": ["Decision Maker", "TRUE", "0"],
        }
    )
    got = f.select(normalise_phone("p"), normalise_category("a"))
    assert got.get_column("p").to_list() == ["+15550102000", "5550102000", "call me"]
    assert got.get_column("a").to_list() == ["decision_maker", "yes", "no"]


def _text_frame(**cols: list[str | None]) -> pl.DataFrame:
    n = len(next(iter(cols.values())))
    return pl.DataFrame(
        {"_rid": list(range(n)), "_file": ["f.csv"] * n, "_line": list(range(2, n + 2)), **cols}
    )


def test_clean_types_fields_maps_stages_and_notes_unparseable_values() -> None:
    frame = _text_frame(
        opportunity_id=[" o1 ", "o2", "o3"],
        stage=["Closed Won", "NEGOTIATION", "Stalled??"],
        amount=["1,000", "", "ten"],
        probability=["100", "60", None],
        created_at=["2024-01-01", "2024-01-05", "2024-13-45"],
    )
    mapped = to_canonical(frame, OPPORTUNITIES, {}, {"currency": "EUR"})
    # '1,000' alone could be a thousand or one: this export says its mark is a point
    options = CleanOptions(stages={"closed won": "won"}, decimal_comma=False)
    out = clean(mapped.frame, OPPORTUNITIES, options)
    assert out.get_column("opportunity_id").to_list() == ["o1", "o2", "o3"]
    assert out.get_column("stage").to_list() == ["won", "negotiation", None]
    assert out.get_column("stage_label").to_list() == ["Closed Won", "NEGOTIATION", "Stalled??"]
    assert out.get_column("amount").to_list() == [1000.0, None, None]
    assert out.get_column("probability").to_list() == [1.0, 0.6, None]  # auto: 0-100 scale
    assert out.get_column("currency").to_list() == ["EUR"] * 3
    assert out.get_column("_unparsed").to_list() == [
        None,
        None,
        "amount='ten', created_at='2024-13-45'",
    ]


def test_mapping_reports_absent_columns_and_missing_required_fields() -> None:
    frame = _text_frame(**{"Lead ID": ["l1"], "Email": ["A@B.COM"]})
    mapped = to_canonical(frame, LEADS, {"lead_id": "lead id", "company": "Company Name"}, {})
    assert mapped.absent_columns == ("Company Name",)
    assert mapped.missing_required == ("created_at",)
    assert mapped.frame.get_column("lead_id").to_list() == ["l1"]
    assert mapped.frame.get_column("email").to_list() == ["A@B.COM"]  # same-named column


def test_history_needs_one_of_its_references() -> None:
    mapped = to_canonical(
        _text_frame(stage=["won"], entered_at=["2024-01-01"]), STAGE_HISTORY, {}, {}
    )
    assert mapped.missing_required == ("opportunity_id or lead_id",)


def test_dedupe_keeps_latest_update_then_latest_line() -> None:
    frame = pl.DataFrame(
        {
            "_rid": [0, 1, 2, 3, 4],
            "_line": [2, 3, 4, 5, 6],
            "lead_id": ["a", "b", "a", None, "b"],
            "updated_at": [datetime(2024, 1, 3), None, datetime(2024, 1, 1), None, None],
        }
    )
    kept, superseded = dedupe(frame, LEADS)
    assert kept.get_column("_rid").to_list() == [0, 3, 4]
    assert superseded.rows() == [(1, 6), (2, 2)]
