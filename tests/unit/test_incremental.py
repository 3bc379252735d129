"""Which rows an incremental run processes: row hashes, record keys, affected records."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl

from funnel.config import load_config
from funnel.extract import REJECT_SCHEMA, Extract
from funnel.incremental import (
    BLANK_KEY,
    PRIOR_SCHEMA,
    Prior,
    affected_keys,
    can_carry,
    fresh_rows,
    keyed,
    narrow,
    row_hashes,
)

CONFIG = """
[[sources]]
name = "deals"
entity = "opportunities"
path = "deals.csv"
[sources.columns]
opportunity_id = "Deal"
stage = "Stage"
probability = "Prob"
"""


def _extract(rows: dict[str, list[str | None]]) -> Extract:
    n = len(next(iter(rows.values())))
    frame = pl.DataFrame(rows, schema=dict.fromkeys(rows, pl.String)).with_columns(
        pl.int_range(0, n, dtype=pl.Int64).alias("_rid"),
        pl.lit("deals.csv").alias("_file"),
        pl.int_range(2, n + 2, dtype=pl.Int64).alias("_line"),
    )
    return Extract("deals", frame, pl.DataFrame(schema=REJECT_SCHEMA), ("deals.csv",))


def _prior(rows: list[tuple[int, str | None, bool, bool]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=PRIOR_SCHEMA, orient="row")


def test_the_row_hash_reads_the_rows_own_text_only() -> None:
    a = _extract({"Deal": ["OP-1", "OP-2"], "Stage": ["Won", "Won"]})
    moved = a.rows.with_columns(pl.col("_line") + 10, pl.lit("other.csv").alias("_file"))
    changed = a.rows.with_columns(pl.Series("Stage", ["Won", "Lost"]))
    assert row_hashes(a.rows).to_list() == row_hashes(moved).to_list()
    h, c = row_hashes(a.rows).to_list(), row_hashes(changed).to_list()
    assert h[0] == c[0] and h[1] != c[1] and h[0] != h[1]
    assert row_hashes(a.rows).dtype == pl.UInt64


def test_keys_are_the_ids_as_cleaning_reads_them_and_auto_scale_is_resolved(
    tmp_path: Path,
) -> None:
    (tmp_path / "funnel.toml").write_text(CONFIG)
    config = load_config(tmp_path / "funnel.toml")
    source = config.sources[0]
    x = _extract({"Deal": [" OP-1 ", "NULL", ""], "Stage": ["Won"] * 3, "Prob": ["10", "80", "0"]})
    k = keyed(config, source, x)
    assert k.extract.rows.get_column("_key").to_list() == ["OP-1", None, None]
    assert k.probability_scale == 100  # a value above 1: the column is 0-100
    low = keyed(config, source, replace(x, rows=x.rows.with_columns(pl.lit("0.5").alias("Prob"))))
    assert low.probability_scale == 1
    assert low.fingerprint != k.fingerprint  # the scale decides how rows are cleaned
    # tonight's file under another name (a dated export): the same cleaning
    moved = source.model_copy(update={"path": "deals-2026-11-01.csv"})
    assert keyed(config, moved, x).fingerprint == k.fingerprint
    # changes_only (a key added later) leaves the fingerprint as it was before the key existed
    marked = source.model_copy(update={"changes_only": True})
    assert keyed(config, marked, x).fingerprint == k.fingerprint
    renamed = source.model_copy(update={"date_format": ["%d.%m.%Y"]})
    assert keyed(config, renamed, x).fingerprint != k.fingerprint


def test_affected_records_are_those_with_a_fresh_or_a_gone_row() -> None:
    today = pl.DataFrame(
        {
            "_hash": [1, 2, 30, 4, 5, 5, 7],
            "_key": ["A", "B", "C", "D", "E", "E", None],
        },
        schema={"_hash": pl.UInt64, "_key": pl.String},
    )
    prior = _prior(
        [
            (1, "A", False, False),  # unchanged
            (2, "B", True, False),  # unchanged (it warned)
            (3, "C", False, False),  # changed tonight: 30
            (4, "D", False, True),  # bound to its as-of day: re-checked
            (5, "E", False, False),  # tonight twice word for word
            (6, "F", False, False),  # gone
            (8, None, False, False),  # a blank-id row, gone
        ]
    )
    fresh = fresh_rows(today.get_column("_hash"), prior)
    assert fresh.to_list() == [False, False, True, True, True, True, True]
    keys = affected_keys(today.with_columns(fresh), prior)
    assert keys.to_list() == sorted(["C", "D", "E", "F", BLANK_KEY])


def test_narrow_processes_affected_records_and_carries_the_rest() -> None:
    x = _extract(
        {"Deal": ["OP-1", "OP-2", "OP-2", "OP-3", None], "Stage": ["a", "b", "c", "d", "e"]}
    )
    hashes = row_hashes(x.rows)
    h = hashes.to_list()
    prior = _prior(
        [
            (h[0], "OP-1", True, False),
            (h[1], "OP-2", False, False),
            (h[3], "OP-3", False, False),
            (99, "OP-4", False, False),  # gone
        ]
    )
    keys = pl.Series("_key", ["OP-1", "OP-2", "OP-2", "OP-3", None])
    rows = x.rows.with_columns(hashes, keys, fresh_rows(hashes, prior))
    x = Extract(x.source, rows, x.rejects, x.files)
    # OP-2's second row is new: both its rows are processed; OP-3 is affected from another
    # source; the blank-id row is fresh. OP-1 is carried, with its warning.
    affected = pl.Series("_key", ["OP-2", "OP-3"])
    subset, carry = narrow(x, prior, affected)
    assert subset.rows.get_column("_line").to_list() == [3, 4, 5, 6]
    assert (subset.carried, subset.carried_warned, subset.rows_read) == (1, 1, 5)
    assert carry.mode == "incremental"
    assert carry.kept.scan().select("_hash", "_line").collect().rows() == [(h[0], 2)]
    assert sorted(carry.dropped.get_column("row_hash").to_list()) == sorted([h[1], h[3], 99])


def test_a_source_carries_only_with_the_same_fingerprint_rows_and_no_earlier_day() -> None:
    prior = Prior(_prior([(1, "A", False, False)]), "fp", date(2026, 10, 30), 1)
    assert can_carry(prior, "fp", date(2026, 10, 30))
    assert can_carry(prior, "fp", date(2026, 10, 31))
    assert not can_carry(prior, "fp", date(2026, 10, 29))
    assert not can_carry(prior, "other", date(2026, 10, 31))
    assert not can_carry(Prior(prior.rows, "fp", prior.as_of, 2), "fp", date(2026, 10, 31))
    assert not can_carry(None, "fp", date(2026, 10, 31))
