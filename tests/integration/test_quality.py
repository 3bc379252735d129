"""Hygiene and great-expectations validation on a small dirty export, file to outcome."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from funnel import extract, hygiene
from funnel.config import FunnelConfig, load_config
from funnel.extract import extract_files
from funnel.hygiene import clean_source
from funnel.quality import validate
from funnel.quality.validate import validate_entity

LEADS_CSV = """\
Lead ID,Created,Email,Phone,Stage,Budget,Modified
L1,2024-01-05,Ann@Example.COM,+1 555 010 2000,New,"12,000",2024-01-06
L2,2024-01-06,bob@,555-0100,Working,500,2024-01-06
L3,,carol@example.com,,New,,2024-01-06
L4,2024-01-07,dan@example.com,,Stalled??,,2024-01-07
L5,2024-01-08,eve@example.com,,New,-5,2024-01-08
L1,2024-01-05,ann@example.com,,Working,,2024-01-01
L6,2099-01-01,fay@example.com,,New,,2024-01-08
L7,2024-01-09,gus@example.com,,New,,2024-01-09,extra
L8,31.02.2024,hal@example.com,,New,,2024-01-09
"""
OTHER_CSV = """\
lead_id;created_at;stage
L9;2024-02-01;qualification
L2;2024-02-02;qualification
"""
CONFIG = """
[warehouse]
path = "wh/funnel.duckdb"

[[sources]]
name = "crm"
entity = "leads"
path = "leads.csv"
decimal_comma = false    # "12,000" alone could be twelve: the export says it is 12000
[sources.columns]
lead_id = "Lead ID"
created_at = "Created"
email = "Email"
phone = "Phone"
stage = "Stage"
budget = "Budget"
updated_at = "Modified"
[sources.stages]
New = "prospecting"
Working = "qualification"

[[sources]]
name = "events"
entity = "leads"
path = "events.csv"
delimiter = ";"
"""


def _config(tmp_path: Path) -> FunnelConfig:
    (tmp_path / "leads.csv").write_text(LEADS_CSV)
    (tmp_path / "events.csv").write_text(OTHER_CSV)
    (tmp_path / "funnel.toml").write_text(CONFIG)
    return load_config(tmp_path / "funnel.toml")


def test_every_row_is_loaded_or_quarantined_with_file_line_and_reason(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    parts = [clean_source(cfg, s, extract_files(cfg, s)) for s in cfg.sources]
    outcome = validate_entity("leads", parts, date(2024, 3, 1), cfg.validation)

    crm, events = outcome.sources
    assert (crm.rows_read, pl.concat(crm.loaded()).height, crm.rows_quarantined) == (9, 1, 8)
    assert (events.rows_read, pl.concat(events.loaded()).height, events.rows_quarantined) == (
        2,
        1,
        1,
    )
    assert crm.rows_warned == 1  # bob@: malformed email (a warning) ... but L2 is quarantined too

    q = outcome.quarantine.sort("source", "source_line")
    got = {(r["source"], r["source_line"]): r["reasons"] for r in q.iter_rows(named=True)}
    leads_csv = str(tmp_path / "leads.csv")
    assert set(q.filter(pl.col("source") == "crm").get_column("source_file")) == {leads_csv}
    assert got == {
        ("crm", 3): "lead_id 'L2' also comes from another source",
        ("crm", 4): "created_at is blank",
        ("crm", 5): "unknown stage label 'Stalled??'",
        ("crm", 6): "negative budget -5.0",
        ("crm", 7): "duplicate lead_id: superseded by the row on line 2",
        ("crm", 8): "created_at 2099-01-01 00:00:00 is after the as-of day 2024-03-01",
        ("crm", 9): "Expected Number of Columns: 7 Found: 8",
        ("crm", 10): "unparseable value: created_at='31.02.2024'; created_at is blank",
        ("events", 3): "lead_id 'L2' also comes from another source",
    }
    original = json.loads(q.filter(pl.col("source_line") == 6).get_column("original_row")[0])
    assert original["Budget"] == "-5"

    loaded = pl.concat(crm.loaded()).row(0, named=True)
    assert (loaded["lead_id"], loaded["email"], loaded["phone"], loaded["budget"]) == (
        "L1",
        "ann@example.com",
        "+15550102000",
        12000.0,
    )

    results = {(r["source"], r["check"]): r for r in outcome.results.iter_rows(named=True)}
    assert results[("crm", "lead_id_unique")]["rows_failed"] == 1
    assert results[("crm", "email_format")]["severity"] == "warn"
    assert results[("crm", "csv_structure")]["rows_failed"] == 1
    assert results[("events", "lead_id_unique")]["passed"] is False
    assert results[("events", "email_format")]["passed"] is True
    assert crm.blocking and "above max_error_share" in crm.blocking[0]


def test_parked_rows_load_a_slice_at_a_time_as_they_would_at_once(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    parts = [clean_source(cfg, s, extract_files(cfg, s)) for s in cfg.sources]
    assert all(path.exists() for p in parts for path in p.clean_rows.files.paths)
    crm = validate_entity("leads", parts, date(2024, 3, 1), cfg.validation).sources[0]
    whole = list(crm.loaded())
    slices = list(crm.loaded(rows_per_batch=2))
    checked = crm.clean_rows.height  # the rows left after the reader and dedupe: 7 of 9
    assert checked == 7 and len(whole) == 1 and len(slices) == 4  # in slices of 2
    assert sum(s.height for s in slices) == crm.rows_loaded == 1
    assert pl.concat(slices).to_dicts() == whole[0].to_dicts()


def test_cleaning_and_checking_in_slices_gives_what_one_pass_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config(tmp_path)

    def run() -> tuple[list[hygiene.CleanSource], validate.EntityOutcome]:
        parts = [clean_source(cfg, s, extract_files(cfg, s)) for s in cfg.sources]
        return parts, validate_entity("leads", parts, date(2024, 3, 1), cfg.validation)

    whole_parts, whole = run()
    monkeypatch.setattr(extract, "READ_BATCH_ROWS", 2)
    monkeypatch.setattr(hygiene, "CLEAN_ROWS", 2)
    monkeypatch.setattr(validate, "VALIDATE_ROWS", 2)
    parts, sliced = run()

    # the two copies of L1 (lines 2 and 7) are cleaned in different slices, and dedupe still
    # keeps the newer; L2 comes from both sources, checked in different slices, and fails
    # uniqueness in both
    assert [p.rows.height for p in parts] == [7, 2]
    assert [p.rows.to_dicts() for p in parts] == [p.rows.to_dicts() for p in whole_parts]
    reasons = {(r["source"], r["source_line"]): r["reasons"] for r in sliced.quarantine.to_dicts()}
    assert (
        reasons[("crm", 3)]
        == reasons[("events", 3)]
        == "lead_id 'L2' also comes from another source"
    )
    assert reasons[("crm", 7)] == "duplicate lead_id: superseded by the row on line 2"
    assert sliced.quarantine.to_dicts() == whole.quarantine.to_dicts()
    assert sliced.results.to_dicts() == whole.results.to_dicts()
    for s, w in zip(sliced.sources, whole.sources, strict=True):
        assert (s.rows_loaded, s.rows_quarantined, s.rows_warned) == (
            w.rows_loaded,
            w.rows_quarantined,
            w.rows_warned,
        )
        assert sorted(s.rejected.to_list()) == sorted(w.rejected.to_list())
        assert pl.concat(s.loaded()).to_dicts() == pl.concat(w.loaded()).to_dicts()
    assert [s.rows_loaded for s in sliced.sources] == [1, 1]


def test_a_source_is_parked_batch_by_batch_with_every_row_its_line_key_and_the_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from funnel import incremental

    cfg = _config(tmp_path)
    crm = cfg.sources[0]
    monkeypatch.setattr(extract, "STREAM_BYTES", 0)  # any file is streamed onto disk
    whole = extract.extract_files(cfg, crm, incremental.row_keys(crm))
    monkeypatch.setattr(extract, "READ_BATCH_ROWS", 3)
    x = extract.extract_files(cfg, crm, incremental.row_keys(crm))
    assert x.on_disk is not None and x.rows.columns == ["_rid"] and x.rows_read == 9

    # read back two rows at a time: the 8 rows DuckDB splits, each on its own line (line 9,
    # with an extra field, is a reject)
    slices = list(extract.text_slices(x, 2))
    rows = pl.concat(slices)
    assert [s.height for s in slices] == [3, 3, 2]  # whole batches of the reader's 3 rows
    assert rows.get_column("_line").to_list() == [2, 3, 4, 5, 6, 7, 8, 10]
    assert rows.get_column("Lead ID").to_list() == ["L1", "L2", "L3", "L4", "L5", "L1", "L6", "L8"]
    assert rows.to_dicts() == pl.concat(list(extract.text_slices(whole, 100))).to_dicts()
    assert x.rejects.select("_line", "check").rows() == [(9, "csv_structure")]

    # the lineage keys each row as the in-memory extract of the same rows is keyed
    keys = extract.lineage(x, ["_file", "_line", "_hash", "_key"]).collect()
    assert keys.get_column("_key").to_list() == rows.get_column("Lead ID").to_list()
    in_memory = replace(x, rows=rows.drop("_hash"), on_disk=None)
    expected = incremental.keyed(cfg, crm, in_memory).extract.rows
    assert keys.to_dicts() == expected.select(keys.columns).to_dicts()

    # a file with its header and no rows, and one whose every row is broken
    (tmp_path / "leads.csv").write_text(LEADS_CSV.splitlines()[0] + "\n")
    empty = extract.extract_files(cfg, crm, incremental.row_keys(crm))
    assert (empty.rows_read, pl.concat(list(extract.text_slices(empty, 2))).height) == (0, 0)
    assert extract.lineage(empty, ["_key"]).collect().height == 0
    (tmp_path / "leads.csv").write_text(LEADS_CSV.splitlines()[0] + "\nL1,a,b,c,d,e,f,g\nL2,a\n")
    broken = extract.extract_files(cfg, crm)
    # one reject per line: DuckDB reports the short line 3 once per missing column
    assert (broken.rows.height, broken.rows_read) == (0, 2)
    assert broken.rejects.select("_line", "reason").rows() == [
        (2, "Expected Number of Columns: 7 Found: 8"),
        (3, "Expected Number of Columns: 7 Found: 2 (column Email)"),
    ]
