"""Number formats decided from the values, never silently: exports of each kind through real
runs into real DuckDB files, amounts asserted against hand-computed values."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from flows.nightly import nightly
from funnel.errors import DataQualityError
from tests.conftest import REPO
from tests.integration.ops_helpers import query

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]
AS_OF = date(2026, 10, 31)

EUROPEAN_CONFIG = """
[warehouse]
path = "warehouse/funnel.duckdb"
timezone = "Europe/Berlin"

[[sources]]
name = "eu_deals"
entity = "opportunities"
path = "export/deals.csv"
delimiter = ";"
date_format = "%d.%m.%Y"
[sources.columns]
opportunity_id = "Deal-ID"
stage = "Phase"
amount = "Betrag"
currency = "Währung"
created_at = "Erstellt"
closed_at = "Abgeschlossen"
probability = "Wahrscheinlichkeit"
[sources.stages]
"Gewonnen" = "won"
"Verloren" = "lost"
"Verhandlung" = "negotiation"
"Angebot" = "proposal"
"""
# decimal_comma is not set: 21137,00 and 1.234,56 tell the comma; 3.000 then reads 3000
EUROPEAN_CSV = """\
Deal-ID;Phase;Betrag;Währung;Erstellt;Abgeschlossen;Wahrscheinlichkeit
D1;Gewonnen;21137,00;EUR;01.10.2026;20.10.2026;100
D2;Gewonnen;1.234,56;EUR;02.10.2026;25.10.2026;100
D3;Verhandlung;12.500,00;EUR;05.10.2026;;60
D4;Angebot;800;EUR;06.10.2026;;40
D5;Verloren;3.000;EUR;03.10.2026;15.10.2026;0
"""


def test_a_european_export_publishes_its_amounts_as_written(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "deals.csv").write_text(EUROPEAN_CSV, encoding="utf-8")
    (tmp_path / "funnel.toml").write_text(EUROPEAN_CONFIG, encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "funnel", "run", "--config", "funnel.toml", "--as-of", "2026-10-31"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    amounts = query(wh, "select opportunity_id, amount, probability from opportunities order by 1")
    assert amounts == [
        ("D1", 21137.0, 1.0),
        ("D2", 1234.56, 1.0),
        ("D3", 12500.0, 0.6),
        ("D4", 800.0, 0.4),
        ("D5", 3000.0, 0.0),
    ]
    # won D1 + D2; open D3 + D4, weighted 12500 * 0.6 + 800 * 0.4
    metrics = query(
        wh,
        "select won, lost, won_amount, avg_deal_size, open_count, open_amount, weighted_pipeline"
        " from funnel_metrics_daily where day = '2026-10-31' and trailing_window = '30d'",
    )
    assert metrics == [(2, 1, 22371.56, 11185.78, 2, 13300.0, 7820.0)]
    assert query(
        wh,
        "select rows_failed, passed, details from dq_results where \"check\" = 'number_format'",
    ) == [
        (
            0,
            True,
            "amount: decimal comma (detected from 3 values, e.g. '21137,00', '1.234,56',"
            " '12.500,00'); probability: no value has a decimal mark",
        )
    ]


#: One source per kind of export; the canonical field names are the file's own.
KINDS = {
    "grouped": ('G1,won,"1.234.567,89"\nG2,won,950\n', ""),
    "spaced": ("S1;won;1 234,5\nS2;won;12\u00a0000,75\n", 'delimiter = ";"'),
    "swiss": ("W1,won,1'234.50\nW2,won,999'999.95\n", ""),
    "mixed": ('M1,won,1.5\nM2,won,2.25\nM3,won,"1,5"\nM4,won,7\n', ""),
    "ambiguous": ('A1,won,"1,234"\nA2,won,700\nA3,won,800\n', ""),
    "configured": ('C1,won,1.234\nC2,won,"1,234.50"\nC3,won,"2,5"\n', "decimal_comma = true"),
}


def _kinds_project(root: Path, validation: str) -> Path:
    (root / "export").mkdir(parents=True, exist_ok=True)
    config = ['[warehouse]\npath = "warehouse/funnel.duckdb"\n']
    for name, (rows, extra) in KINDS.items():
        sep = ";" if "delimiter" in extra else ","
        header = sep.join(("opportunity_id", "stage", "amount")) + "\n"
        (root / "export" / f"{name}.csv").write_text(header + rows, encoding="utf-8")
        config.append(
            f'[[sources]]\nname = "{name}"\nentity = "opportunities"\n'
            f'path = "export/{name}.csv"\n{extra}\n'
        )
    config.append(f"[validation]\n{validation}\n")
    (root / "funnel.toml").write_text("\n".join(config), encoding="utf-8")
    return root / "funnel.toml"


def test_each_kind_of_export_reads_right_and_the_doubtful_values_are_quarantined(
    tmp_path: Path,
) -> None:
    config = _kinds_project(tmp_path, "max_error_share = 0.5")
    summary = nightly(config_path=str(config), as_of=AS_OF)
    assert summary.status == "published"
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    published = dict(query(wh, "select opportunity_id, amount from opportunities"))
    assert published == {
        "G1": 1234567.89,
        "G2": 950.0,
        "S1": 1234.5,
        "S2": 12000.75,
        "W1": 1234.5,
        "W2": 999999.95,
        "M1": 1.5,
        "M2": 2.25,
        "M4": 7.0,
        "A2": 700.0,
        "A3": 800.0,
        "C1": 1234.0,  # decimal_comma = true: '1.234' is a thousand two hundred and thirty-four
        "C3": 2.5,
    }
    quarantined = query(
        wh,
        "select source, source_line, reasons, checks from dq_quarantine order by source",
    )
    assert quarantined == [
        (
            "ambiguous",
            2,
            "amount '1,234' is ambiguous: its mark may be a decimal mark or a thousands"
            " separator, and no value of the column tells which; set decimal_comma for source"
            " 'ambiguous'",
            ["number_format"],
        ),
        (
            "configured",
            3,
            "amount '1,234.50' has a decimal point, but source 'configured' sets"
            " decimal_comma = true",
            ["number_format"],
        ),
        (
            "mixed",
            4,
            "amount '1,5' has a decimal comma, but the column's other values have a decimal"
            " point (2 values against 1)",
            ["number_format"],
        ),
    ]
    results = query(
        wh,
        "select source, severity, rows_checked, rows_failed, details from dq_results"
        " where \"check\" = 'number_format' and source in ('mixed', 'swiss') order by source",
    )
    assert results == [
        (
            "mixed",
            "error",
            4,
            1,
            "amount: decimal point (detected from 2 values, e.g. '1.5', '2.25'); not read: 1"
            " with a decimal comma, e.g. '1,5'; probability: no value has a decimal mark",
        ),
        (
            "swiss",
            "error",
            2,
            0,
            "amount: decimal point (detected from 2 values, e.g. '1'234.50', '999'999.95');"
            " probability: no value has a decimal mark",
        ),
    ]


def test_the_gate_decides_on_doubtful_numbers_as_for_any_error_check(tmp_path: Path) -> None:
    config = _kinds_project(tmp_path, "")  # max_error_share 5 %: 1 row of 3 blocks
    with pytest.raises(DataQualityError) as failed:
        nightly(config_path=str(config), as_of=AS_OF)
    assert failed.value.exit_code == 3
    assert "ambiguous: 1 of 3 rows (33.3%) failed error checks" in str(failed.value)
    assert not (tmp_path / "warehouse" / "funnel.duckdb").exists()
    state = tmp_path / "warehouse" / "funnel.state.duckdb"
    assert query(
        state,
        "select source, rows_failed from log_dq_results where \"check\" = 'number_format'"
        " and rows_failed > 0 order by source",
    ) == [("ambiguous", 1), ("configured", 1), ("mixed", 1)]


def test_a_warn_severity_loads_doubtful_numbers_blank_never_guessed(tmp_path: Path) -> None:
    config = _kinds_project(tmp_path, 'severity = { number_format = "warn" }')
    summary = nightly(config_path=str(config), as_of=AS_OF)
    assert summary.status == "published"
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    doubtful = query(
        wh,
        "select opportunity_id, amount from opportunities where opportunity_id in"
        " ('A1', 'C2', 'M3') order by 1",
    )
    assert doubtful == [("A1", None), ("C2", None), ("M3", None)]
    assert query(wh, "select count(*) from dq_quarantine") == [(0,)]


NIGHT_1 = "opportunity_id;stage;amount\nD1;won;21137,00\nD2;won;1.234\nD3;won;99,5\n"
NIGHT_2 = NIGHT_1 + "D4;won;1.5\n"


def test_a_value_that_makes_a_column_mixed_is_judged_over_every_row_of_the_next_night(
    tmp_path: Path,
) -> None:
    (tmp_path / "export").mkdir()
    export = tmp_path / "export" / "deals.csv"
    config = tmp_path / "funnel.toml"
    config.write_text(
        '[warehouse]\npath = "warehouse/funnel.duckdb"\n\n[[sources]]\nname = "deals"\n'
        'entity = "opportunities"\npath = "export/deals.csv"\ndelimiter = ";"\n\n'
        "[validation]\nmax_error_share = 0.6\n"
    )
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    export.write_text(NIGHT_1)
    nightly(config_path=str(config), as_of=date(2026, 10, 30))
    # the column tells a comma: '1.234' reads 1234
    assert query(wh, "select opportunity_id, amount from opportunities order by 1") == [
        ("D1", 21137.0),
        ("D2", 1234.0),
        ("D3", 99.5),
    ]
    export.write_text(NIGHT_2)
    nightly(config_path=str(config), as_of=AS_OF)
    # now it mixes marks: '1.5' contradicts the comma of most, and '1.234' (loaded last night
    # and unchanged) can no longer lean on its column: the source ran in full
    assert query(wh, "select opportunity_id, amount from opportunities order by 1") == [
        ("D1", 21137.0),
        ("D3", 99.5),
    ]
    assert query(wh, "select source, source_line from dq_quarantine order by 2") == [
        ("deals", 3),
        ("deals", 5),
    ]
    modes = query(
        wh,
        "select s.mode from (select unnest(sources) as s from pipeline_runs"
        f" where as_of = '{AS_OF}')",
    )
    assert modes == [("full",)]
