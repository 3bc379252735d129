"""Exports as the CRMs write them today, through the real nightly flow with the preset alone
plus the account's own stage labels: the published warehouse holds the CRM's own won / lost /
open counts and won amount (tests/integration/crm_standins/exports.py counts them by hand).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.nightly import nightly
from funnel.errors import ConfigError, DataQualityError
from tests.integration.crm_standins.exports import (
    LAYOUTS,
    PIPEDRIVE_EN,
    SALESFORCE_DATA_EXPORT,
    Layout,
)
from tests.integration.crm_standins.records import AS_OF

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]


def project(folder: Path, layout: Layout, extra: str = "", validation: str = "") -> Path:
    """The layout's file and a config that reads it with its preset and the account's stages."""
    folder.mkdir(parents=True, exist_ok=True)
    layout.write(folder)
    cfg = folder / "funnel.toml"
    cfg.write_text(
        '[warehouse]\npath = "wh/funnel.duckdb"\ntimezone = "UTC"\n\n'
        + (f"[validation]\n{validation}\n" if validation else "")
        + layout.sources_toml(extra),
        encoding="utf-8",
    )
    return cfg


def one(folder: Path, sql: str) -> tuple[Any, ...]:
    with duckdb.connect(str(folder / "wh" / "funnel.duckdb"), read_only=True) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


OUTCOMES = (
    "select count(*) filter (where is_won), count(*) filter (where is_lost),"
    " count(*) filter (where is_open), coalesce(sum(amount) filter (where is_won), 0)"
    " from opportunities"
)
CHECK = (
    "select severity, rows_failed, passed, column_name, details from dq_results"
    " where source = 'deals' and \"check\" = '{}' and run_id = '{}'"
)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_each_layout_publishes_the_crms_own_outcomes(name: str, tmp_path: Path) -> None:
    layout = LAYOUTS[name]
    summary = nightly(config_path=str(project(tmp_path, layout)), as_of=AS_OF)
    e = layout.expected
    assert summary.status == "published"
    (counts,) = summary.sources
    rows = e.won + e.lost + e.open
    # every row loads: a close before the creation is counted, never quarantined
    assert (counts.rows_read, counts.rows_loaded, counts.rows_quarantined) == (rows, rows, 0)
    assert counts.rows_warned == e.closed_before_created
    assert one(tmp_path, OUTCOMES) == (e.won, e.lost, e.open, e.won_amount)
    # the headline metrics of all time agree with the opportunities
    assert one(
        tmp_path,
        "select won, lost, won_amount from funnel_metrics_daily"
        f" where day = date '{AS_OF}' and trailing_window = 'all'",
    ) == (e.won, e.lost, e.won_amount)
    severity, failed, passed, *_ = one(
        tmp_path, CHECK.format("closed_after_created", summary.run_id)
    )
    assert (severity, failed, passed) == ("warn", e.closed_before_created, failed == 0)
    assert summary.findings == []


def test_windows_1252_data_export_with_accents(tmp_path: Path) -> None:
    """Salesforce's Data Export default encoding, detected and named in the run log; the
    accented stage labels (one with an en dash, 0x96) map as the account spelled them."""
    summary = nightly(config_path=str(project(tmp_path, SALESFORCE_DATA_EXPORT)), as_of=AS_OF)
    label = "windows-1252 (Salesforce Data Export default)"
    assert summary.sources[0].encoding == label
    assert one(tmp_path, "select sources[1].encoding from pipeline_runs") == (label,)
    labels = one(
        tmp_path,
        "select list(stage_label order by opportunity_id) filter (where is_open)"
        " from opportunities",
    )
    assert labels == (["Découverte", "Proposta – revisão", "Perception Analysis"],)
    # won whatever the label: the custom "Signed" stage is won by its IsWon flag; the deal
    # entered after it closed has no cycle, the one closed on its creation day a cycle of 0
    assert one(
        tmp_path,
        "select list(stage_label || ':' || coalesce(cycle_days::varchar, '-')"
        " order by opportunity_id) from opportunities where is_won",
    ) == (["Signed:15", "Closed Won:0", "Signed:-"],)


def test_an_explicit_wrong_encoding_names_the_file_and_line(tmp_path: Path) -> None:
    cfg = project(tmp_path, SALESFORCE_DATA_EXPORT, extra='encoding = "utf-8"\n')
    with pytest.raises(ConfigError, match=r"Opportunity\.csv: not readable as utf-8.* line 2 "):
        nightly(config_path=str(cfg), as_of=AS_OF)
    assert not (tmp_path / "wh" / "funnel.duckdb").exists()
    # the encoding the config names wins over detection
    cfg = project(tmp_path, SALESFORCE_DATA_EXPORT, extra='encoding = "windows-1252"\n')
    summary = nightly(config_path=str(cfg), as_of=AS_OF)
    assert summary.sources[0].encoding == "windows-1252 (config)"


# A language the Pipedrive preset has no spellings for: its status column is "Stato" and its
# values "Vinto" / "Perso" / "Aperto". The account maps its other columns by hand.
ITALIAN = Layout(
    name="pipedrive italian",
    format="pipedrive",
    file="offerte.csv",
    header=["ID", "Titolo", "Valore", "Fase", "Stato", "Creato"],
    rows=[
        ["1", "Offerta 1", "12000", "Discovery", "Vinto", "2026-01-05 09:00:00"],
        ["2", "Offerta 2", "5000", "Discovery", "Perso", "2026-02-02 11:30:00"],
        ["3", "Offerta 3", "30000", "Quote Sent", "Aperto", "2026-03-01 08:15:00"],
        ["4", "Offerta 4", "8000", "Quote Sent", "Aperto", "2026-04-10 14:00:00"],
    ],
    stages={"Discovery": "meeting", "Quote Sent": "proposal"},
    expected=PIPEDRIVE_EN.expected,
)
ITALIAN_COLUMNS = 'columns = { stage = "Fase", amount = "Valore", created_at = "Creato" }\n'


def test_an_outcome_column_the_preset_cannot_read_is_a_finding(tmp_path: Path) -> None:
    """Never silently open: without a status column the preset knows, or with values it does
    not know, every deal would stay in its last (open) stage. The run says so, naming the
    column and the values; `outcome_column` and `[sources.outcomes]` fix it."""
    summary = nightly(config_path=str(project(tmp_path, ITALIAN, ITALIAN_COLUMNS)), as_of=AS_OF)
    assert summary.status == "published"
    assert summary.findings == [
        "deals: outcome_recognised (warn): no column of the file holds the deal's own outcome"
        " (looked for 'Status', 'Statut', 'Estado', 'status'): a won or lost deal would stay"
        " in its last stage. Name the column with `outcome_column`"
    ]
    assert summary.sources[0].rows_warned == 4
    assert one(tmp_path, OUTCOMES) == (0, 0, 4, 0)

    named = ITALIAN_COLUMNS + 'outcome_column = "Stato"\n'
    summary = nightly(config_path=str(project(tmp_path, ITALIAN, named)), as_of=AS_OF)
    assert summary.findings == [
        "deals: outcome_recognised (warn): no row of column 'Stato' says won or lost (0 say"
        " open, 4 nothing the preset knows); values seen: 'Aperto' x 2, 'Perso' x 1,"
        " 'Vinto' x 1. Map the values the preset does not know under [sources.outcomes]"
        ' (e.g. "Vinto" = "won")'
    ]
    severity, failed, passed, column, details = one(
        tmp_path, CHECK.format("outcome_recognised", summary.run_id)
    )
    assert (severity, failed, passed, column) == ("warn", 4, False, "Stato")
    assert "'Vinto' x 1" in details

    # as an error, the finding blocks the run (and publishes nothing new)
    blocked = project(
        tmp_path, ITALIAN, named, validation='severity = { outcome_recognised = "error" }'
    )
    with pytest.raises(DataQualityError, match="deals: outcome_recognised: no row of column"):
        nightly(config_path=str(blocked), as_of=AS_OF)

    # the account's values named in the config: the CRM's own outcomes, no finding
    fixed = named + '[sources.outcomes]\n"Vinto" = "won"\n"Perso" = "lost"\n"Aperto" = "open"\n'
    summary = nightly(config_path=str(project(tmp_path, ITALIAN, fixed)), as_of=AS_OF)
    assert summary.findings == []
    assert one(tmp_path, OUTCOMES) == (1, 1, 2, 12000)
    assert one(tmp_path, CHECK.format("outcome_recognised", summary.run_id))[:3] == (
        "warn",
        0,
        True,
    )


def test_a_share_of_unknown_outcome_values_is_a_finding(tmp_path: Path) -> None:
    """One deal of seven with a status the preset does not know: above the default share (0),
    a finding naming the value; a configured share of 20% lets it pass."""
    last = PIPEDRIVE_EN.rows[6]
    odd = [*PIPEDRIVE_EN.rows[:6], [*last[:13], "Archived", *last[14:]]]
    layout = replace(PIPEDRIVE_EN, rows=odd)
    summary = nightly(config_path=str(project(tmp_path, layout)), as_of=AS_OF)
    assert summary.findings == [
        "deals: outcome_recognised (warn): 1 of 7 rows (14.3%) of column 'Status' say neither"
        " won, lost nor open (above validation.max_unrecognised_outcome_share 0.0%), so their"
        " stage label decides; values seen: 'Archived' x 1. Map them under [sources.outcomes]"
    ]
    assert summary.sources[0].rows_warned == 1 + PIPEDRIVE_EN.expected.closed_before_created
    # its stage (Discovery: meeting) decides: still open
    assert one(tmp_path, OUTCOMES) == (2, 2, 3, 20000)
    relaxed = project(tmp_path, layout, validation="max_unrecognised_outcome_share = 0.2")
    assert nightly(config_path=str(relaxed), as_of=AS_OF).findings == []
