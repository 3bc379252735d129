"""`funnel check`'s pieces on tiny inputs: reasons grouped, checks evaluated without
great-expectations, columns found, and `funnel init`'s guesses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from funnel.check import (
    SourceReport,
    absent_columns,
    exit_code_of,
    failures,
    file_header,
    preflight,
)
from funnel.config import SourceConfig, load_config
from funnel.errors import ConfigError
from funnel.extract import read_header, unique_names
from funnel.init_config import guess_columns, guess_date_formats, guess_stage
from funnel.quality.checks import entity_checks, with_helper_columns
from funnel.reasons import reason_groups
from tests.conftest import copy_sample
from transforms.schema import ENTITIES


def _quarantine(*rows: tuple[str, int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [("deals", "/x/deals.csv", line, reasons) for line, reasons in
         ((r[1], r[2]) for r in rows)],
        schema=["source", "source_file", "source_line", "reasons"],
        orient="row",
    )  # fmt: skip


def test_reasons_are_grouped_by_kind_with_two_different_examples() -> None:
    rows = _quarantine(
        ("", 2, "unparseable value: created_at='02.11.2024 02:32', closed_at='29.11.2024'"),
        ("", 3, "unknown stage label 'Verloren'; negative amount -5.0"),
        ("", 4, "unknown stage label 'Verloren'"),
        ("", 9, "unknown stage label 'Perdu'"),
        ("", 7, "unparseable value: created_at='04.11.2024 11:14'"),
        ("", 8, "lead_id is blank"),
    )
    groups = {g.kind: g for g in reason_groups(rows)}
    assert sorted((k, g.rows) for k, g in groups.items()) == [
        ("lead_id is blank", 1),
        ("negative amount", 1),
        ("unknown stage label", 3),
        ("unparseable value: closed_at", 1),
        ("unparseable value: created_at", 2),
    ]
    labels = groups["unknown stage label"]
    assert [(e.value, e.line) for e in labels.examples] == [("'Verloren'", 3), ("'Perdu'", 9)]
    assert labels.describe(Path("/x")) == (
        "     3  deals: unknown stage label, e.g. 'Verloren' (deals.csv:3), 'Perdu' (line 9)"
    )
    assert groups["lead_id is blank"].describe(Path("/x")) == (
        "     1  deals: lead_id is blank, first at deals.csv:8"
    )
    assert next(g.kind for g in reason_groups(rows)) == "unknown stage label"  # most rows first


def _cleaned_opportunities() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_rid": [0, 1, 2, 3],
            "_file": ["d.csv"] * 4,
            "_line": [2, 3, 4, 5],
            "opportunity_id": ["A", None, "C", "D"],
            "stage": ["won", None, "lost", "won"],
            "stage_label": ["Won", "Verloren", "Lost", "Won"],
            "amount": [10.0, 5.0, -3.0, None],
            "_unparsed": [None, None, None, "created_at='31.12.2024'"],
        }
    )


def test_the_runs_checks_are_evaluated_in_polars_with_the_runs_reasons() -> None:
    entity = ENTITIES["opportunities"]
    full = _cleaned_opportunities()
    for f, kind in entity.fields.items():
        if f not in full.columns:
            dtype = pl.Datetime("us") if kind == "timestamp" else pl.Date if kind == "date" else (
                pl.Float64 if kind in ("money", "number") else pl.String)  # fmt: skip
            full = full.with_columns(pl.lit(None, dtype).alias(f))
    full = full.with_columns(pl.lit(None, pl.String).alias("_number_format"))
    checks = entity_checks(entity, date(2026, 10, 31), {})
    found = failures(with_helper_columns(full, entity), checks)
    got = sorted(found.select("source_line", "check", "reasons").iter_rows())
    assert got == [
        (3, "opportunity_id_present", "opportunity_id is blank"),
        (3, "stage_in_canonical_set", "unknown stage label 'Verloren'"),
        (4, "amount_not_negative", "negative amount -3.0"),
        (5, "values_parse", "unparseable value: created_at='31.12.2024'"),
    ]


def test_a_missing_column_is_named_with_its_key_and_the_closest_column(tmp_path: Path) -> None:
    config_path = copy_sample(tmp_path)
    text = config_path.read_text().replace(
        'amount = "Amount"\ncurrency', 'amount = "Amout"\ncurrency'
    )
    config_path.write_text(text)
    config = load_config(config_path)
    (source,) = [s for s in config.sources if s.name == "crm_opportunities"]
    (problem,) = absent_columns(config, source, config.source_files(source))
    assert problem == (
        f"{config_path}: sources[crm_opportunities].columns.amount: 'Amout' not found in"
        f" {tmp_path / 'data/sample/opportunities.csv'} (did you mean 'Amount'?)"
    )
    with pytest.raises(ConfigError, match=r"columns\.amount: 'Amout' not found"):
        preflight(config)


def test_a_config_error_comes_before_a_data_quality_failure() -> None:
    ok, dq, bad = SourceReport("a"), SourceReport("b", exit_code=3), SourceReport("c", exit_code=2)
    assert exit_code_of([ok]) == 0
    assert exit_code_of([ok, dq]) == 3
    assert exit_code_of([dq, bad, ok]) == 2


@pytest.mark.parametrize(
    ("label", "stage"),
    [
        ("Closed Won", "won"),
        ("Verloren", "lost"),
        ("Unqualified", "lost"),
        ("Qualified", "qualification"),
        ("Discovery Meeting", "meeting"),
        ("Proposal Sent", "proposal"),
        ("Onboarding", "post_sale"),
        ("negotiation", "negotiation"),
        ("Closed - Duplicate", None),
    ],
)
def test_stage_labels_are_guessed_from_presets_and_words(label: str, stage: str | None) -> None:
    assert guess_stage(label, "opportunities") == stage


def test_date_formats_are_guessed_from_the_values_iso_needs_none() -> None:
    iso = pl.Series(["2024-11-02 02:32:40", "2024-11-03", None])
    assert guess_date_formats(iso) == []
    mixed = pl.Series(["2024-11-02 02:32:40", "11/25/2024 10:00:00", "12/01/2024", ""])
    assert guess_date_formats(mixed) == ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y"]
    german = pl.Series(["02.11.2024 02:32", "28.11.2024 09:26"])
    assert guess_date_formats(german) == ["%d.%m.%Y %H:%M"]


def test_the_entity_and_its_columns_are_guessed_from_a_header() -> None:
    history = guess_columns(["Opportunity ID", "Stage", "Changed At", "Amount"])
    assert history.entity == "stage_history"
    assert history.columns == {
        "opportunity_id": "Opportunity ID",
        "stage": "Stage",
        "entered_at": "Changed At",
        "amount": "Amount",
    }
    deals = guess_columns(["Deal ID", "Deal Stage", "Amount", "Expected Close Date", "Close Date"])
    assert deals.entity == "opportunities"
    assert deals.columns["expected_close_date"] == "Expected Close Date"
    assert deals.columns["closed_at"] == "Close Date"


def test_a_header_is_read_from_the_first_bytes_as_the_run_reads_it(tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_bytes(b'\xef\xbb\xbf"Deal ID";"Amount";Amount;Stage\r\n1;2;3;Won\r\n')
    source = SourceConfig(name="deals", entity="opportunities", path=str(export), delimiter=";")
    assert file_header(source, [export]) == ["Deal ID", "Amount", "Amount_2", "Stage"]
    assert file_header(source, [export]) == unique_names(read_header(export, source))
