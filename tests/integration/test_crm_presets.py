"""Export files in each CRM's own header spelling load with the preset alone."""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from funnel.config import FunnelConfig, load_config
from funnel.connectors.hubspot import PRESETS as HS_PRESETS
from funnel.connectors.pipedrive import PRESETS as PD_PRESETS
from funnel.connectors.presets import merge_preset
from funnel.connectors.registry import FORMATS
from funnel.connectors.salesforce import PRESETS as SF_PRESETS
from funnel.errors import ConfigError
from funnel.extract import extract_files
from funnel.hygiene import clean_source
from tests.integration.crm_standins import mock_hubspot, mock_pipedrive, mock_salesforce
from tests.integration.crm_standins.records import deals

STAGES = {
    "1001": "won",
    "1002": "lost",
    "1003": "negotiation",
    "1004": "proposal",
    "1005": "qualification",
    "1006": "won",
    "1007": "prospecting",
}


def load(tmp_path: Path, fmt: str, entity: str, file: str, extra: str = "") -> pl.DataFrame:
    """Clean one export source configured with nothing but name, entity, format and path."""
    cfg = tmp_path / "funnel.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [[sources]]
        name = "crm"
        entity = "{entity}"
        format = "{fmt}"
        path = "{file}"
        """)
        + textwrap.dedent(extra)
    )
    config = load_config(cfg)
    source = config.sources[0]
    cleaned = clean_source(config, source, extract_files(config, source))
    assert cleaned.missing_required == ()
    return cleaned.rows


def stages_by_id(rows: pl.DataFrame) -> dict[str, str]:
    return {i[-4:]: s for i, s in rows.select("opportunity_id", "stage").iter_rows()}


def test_salesforce_report_exports(tmp_path: Path) -> None:
    mock_salesforce.write_opportunities_report(tmp_path / "opps.csv", deals())
    rows = load(tmp_path, "salesforce", "opportunities", "opps.csv")
    assert stages_by_id(rows) == STAGES
    d = rows.filter(pl.col("opportunity_id") == "0061003").row(0, named=True)
    assert d["probability"] == 0.6  # "Probability (%)" 60 on a 0-100 scale
    assert (d["amount"], d["account"], d["owner"]) == (30000, "Account 3", "Ana Ruiz")
    assert d["stage_label"] == "Negotiation/Review" and d["closed_at"] is None
    assert d["expected_close_date"] == date(2026, 11, 30)
    won = rows.filter(pl.col("opportunity_id") == "0061006").row(0, named=True)
    assert won["closed_at"] == datetime(2026, 6, 19)  # a closed deal's Close Date

    mock_salesforce.write_history_report(tmp_path / "hist.csv", deals())
    hist = load(tmp_path, "salesforce", "stage_history", "hist.csv")
    assert hist.height == sum(len(d.history) for d in deals())
    assert hist.filter(pl.col("opportunity_id") == "0061002").get_column("stage").to_list() == [
        "prospecting", "qualification", "lost"
    ]  # fmt: skip


def test_salesforce_data_export_spells_fields_by_api_name(tmp_path: Path) -> None:
    mock_salesforce.write_data_export_leads(tmp_path / "Lead.csv")
    rows = load(tmp_path, "salesforce", "leads", "Lead.csv")
    assert rows.select("lead_id", "stage", "source", "company").rows() == [
        ("00Q000000000001", "qualification", "Web", "Moss Ltd"),
        ("00Q000000000002", "won", "Partner Referral", "Lind AB"),
    ]
    assert rows.get_column("created_at").to_list()[0] == datetime(2026, 3, 1, 10)
    assert rows.get_column("converted_at").to_list()[1] == datetime(2026, 4, 20)


def test_hubspot_exports(tmp_path: Path) -> None:
    mock_hubspot.write_deals_export(tmp_path / "deals.csv", deals())
    rows = load(tmp_path, "hubspot", "opportunities", "deals.csv")
    assert stages_by_id(rows) == STAGES
    d = rows.filter(pl.col("opportunity_id") == "1004").row(0, named=True)
    assert d["probability"] == 0.4  # 0-1 scale kept
    assert (d["stage_label"], d["owner"], d["currency"]) == (
        "Decision Maker Bought-In", "Ben Okafor", "EUR"
    )  # fmt: skip
    lost = rows.filter(pl.col("opportunity_id") == "1002").row(0, named=True)
    assert lost["lost_reason"] == "Price" and lost["closed_at"] == datetime(2026, 2, 14)

    mock_hubspot.write_contacts_export(tmp_path / "contacts.csv")
    leads = load(tmp_path, "hubspot", "leads", "contacts.csv")
    assert leads.select("lead_id", "stage", "email", "source").rows() == [
        ("501", "qualification", "ada@moss.example", "Organic Search"),
        ("502", "won", "bo@lind.example", "Paid Search"),
    ]


def test_pipedrive_export_reads_status_before_stage(tmp_path: Path) -> None:
    mock_pipedrive.write_deals_export(tmp_path / "deals.csv", deals())
    rows = load(tmp_path, "pipedrive", "opportunities", "deals.csv")
    assert stages_by_id(rows) == STAGES
    won = rows.filter(pl.col("opportunity_id") == "1006").row(0, named=True)
    # its "Deal - Stage" still says Negotiations Started (kept as the label); Status says Won
    assert (won["stage"], won["stage_label"]) == ("won", "Negotiations Started")
    assert won["closed_at"] == datetime(2026, 6, 19, 12) and won["probability"] == 1.0
    open_deal = rows.filter(pl.col("opportunity_id") == "1003").row(0, named=True)
    assert open_deal["stage_label"] == "Negotiations Started"
    assert open_deal["probability"] == 0.6 and open_deal["currency"] == "EUR"


def test_user_columns_stages_and_scale_override_the_preset(tmp_path: Path) -> None:
    mock_hubspot.write_deals_export(tmp_path / "deals.csv", deals())
    rows = load(
        tmp_path,
        "hubspot",
        "opportunities",
        "deals.csv",
        """
        probability_scale = 100
        [sources.columns]
        account = "Deal Name"
        [sources.stages]
        "Contract Sent" = "proposal"
        """,
    )
    d = rows.filter(pl.col("opportunity_id") == "1003").row(0, named=True)
    assert (d["stage"], d["account"], d["probability"]) == ("proposal", "Deal 3", 0.006)


def test_merge_preset_picks_the_first_spelling_present() -> None:
    preset = SF_PRESETS["opportunities"]
    by_label = merge_preset(preset, ["Opportunity ID", "Stage", "Id"], {}, {}, "auto")
    by_api = merge_preset(preset, ["Id", "StageName", "Owner.Name"], {"amount": "Net"}, {}, 1)
    assert by_label.columns == {"opportunity_id": "Opportunity ID", "stage": "Stage"}
    assert by_api.columns == {
        "opportunity_id": "Id",
        "stage": "StageName",
        "owner": "Owner.Name",
        "amount": "Net",
    }
    assert (by_label.probability_scale, by_api.probability_scale) == (100, 1)
    assert by_label.stages["Closed Won"] == "won"


def _config_error(tmp_path: Path, body: str) -> str:
    cfg = tmp_path / "funnel.toml"
    cfg.write_text(textwrap.dedent(body))
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    return str(e.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'name = "x"\nentity = "leads"\nformat = "zoho"\npath = "a.csv"',
            "sources[x]: unknown format 'zoho'; known formats: csv, salesforce, salesforce_api,"
            " hubspot, hubspot_api, pipedrive, pipedrive_api",
        ),
        (
            'name = "x"\nentity = "opportunities"\nformat = "hubspot_api"',
            "sources[x]: token_env is required for format = 'hubspot_api'",
        ),
        (
            'name = "x"\nentity = "leads"\nformat = "pipedrive"\npath = "a.csv"',
            "sources[x]: format 'pipedrive' does not provide leads; it provides: opportunities",
        ),
        (
            'name = "x"\nentity = "leads"\nformat = "salesforce"',
            "sources[x]: path is required for format = 'salesforce'",
        ),
        (
            'name = "x"\nentity = "opportunities"\nformat = "hubspot_api"\ntoken_env = "T"\n'
            "changes_only = true",
            "sources[x]: changes_only is for file sources; an API source (format = 'hubspot_api')"
            " asks for changes only with `incremental`",
        ),
    ],
)
def test_config_rejects_unknown_formats_and_missing_keys(
    tmp_path: Path, body: str, message: str
) -> None:
    assert message in _config_error(tmp_path, "[[sources]]\n" + body)


def test_every_api_format_brings_the_export_presets() -> None:
    for crm in ("salesforce", "hubspot", "pipedrive"):
        export, api = FORMATS[crm], FORMATS[f"{crm}_api"]
        assert api.is_api and not export.is_api
        assert set(export.entities) <= set(api.entities)


def test_config_keeps_api_options(tmp_path: Path) -> None:
    cfg = tmp_path / "funnel.toml"
    cfg.write_text(
        '[[sources]]\nname = "hs"\nentity = "opportunities"\nformat = "hubspot_api"\n'
        'token_env = "HS"\ntimeout = 5\nretries = 2\nincremental = false\n'
    )
    s: FunnelConfig = load_config(cfg)
    src = s.sources[0]
    assert (src.token_env, src.timeout, src.retries, src.incremental) == ("HS", 5, 2, False)
    assert src.base_url is None  # the connector's default (https://api.hubapi.com) is used


# Header spellings seen in each CRM's exports (sources: docs/decisions.md, 2026-12 presets).
PIPEDRIVE_HEADERS = {
    "en": ["ID", "Title", "Value", "Currency of Value", "Stage", "Status", "Deal created",
           "Deal closed on", "Owner", "Organization"],
    "en-prefixed": ["Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency of value",
                    "Deal - Stage", "Deal - Status", "Deal - Deal created", "Deal - Closed on",
                    "Deal - Owner", "Deal - Organization"],
    "de": ["Deal - ID", "Deal - Titel", "Deal - Wert", "Deal - Phase", "Deal - Status",
           "Deal - Deal erstellt", "Deal - Deal abgeschlossen am", "Deal - Besitzer",
           "Deal - Organisation"],
    "fr": ["Affaire - ID", "Affaire - Titre", "Affaire - Valeur", "Affaire - Étape",
           "Affaire - Statut", "Affaire - Affaire créée", "Affaire - Propriétaire",
           "Affaire - Organisation"],
    "pt-BR": ["Negócio - ID", "Negócio - Título", "Negócio - Valor", "Negócio - Moeda",
              "Negócio - Etapa", "Negócio - Status", "Negócio - Negócio criado em",
              "Negócio - Negócio fechado em", "Negócio - Proprietário",
              "Negócio - Organização"],
    "es": ["Trato - ID", "Trato - Título", "Trato - Valor", "Trato - Moneda", "Trato - Etapa",
           "Trato - Estado", "Trato - Trato creado", "Trato - Propietario"],
}  # fmt: skip


@pytest.mark.parametrize("language", list(PIPEDRIVE_HEADERS))
def test_pipedrive_headers_in_each_language(language: str) -> None:
    header = PIPEDRIVE_HEADERS[language]
    m = merge_preset(PD_PRESETS["opportunities"], header, {}, {}, "auto")
    status = {"fr": "Statut", "es": "Estado"}.get(language, "Status")
    assert m.outcome is not None and m.outcome.columns[0].endswith(status)
    # every other column of the header but the title maps to a canonical field
    title = {h for h in header if "Tit" in h or "Tít" in h}
    assert set(m.columns.values()) == set(header) - title - {m.outcome.columns[0]}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Won", "Lost", "Open", "won"], ["won", "lost", "open", "won"]),  # en, API
        (["Gewonnen", "Verloren"], ["won", "lost"]),  # de
        (["Gagnée", "Perdue", "En cours"], ["won", "lost", "open"]),  # fr
        (["Ganho", "Perdido", "Aberto"], ["won", "lost", "open"]),  # pt-BR
        (["Ganado", "Abierto", "Vinto"], ["won", "open", None]),  # es; it is not known
    ],
)
def test_pipedrive_status_values(values: list[str], expected: list[str | None]) -> None:
    m = merge_preset(PD_PRESETS["opportunities"], ["Stage", "Status"], {}, {}, "auto")
    assert m.outcome is not None
    frame = pl.DataFrame({"Stage": ["x"] * len(values), "Status": values})
    assert m.outcome.outcomes(frame).to_list() == expected


def test_salesforce_and_hubspot_flags_decide_the_outcome() -> None:
    sf = merge_preset(SF_PRESETS["opportunities"], ["StageName", "IsClosed", "IsWon"], {}, {}, 1)
    assert sf.outcome is not None and sf.outcome.columns == ("IsClosed", "IsWon")
    frame = pl.DataFrame(
        {"IsClosed": ["true", "TRUE", "false", "1", ""], "IsWon": ["true", "0", "false", "", "1"]}
    )
    assert sf.outcome.outcomes(frame).to_list() == ["won", "lost", "open", None, None]
    # a report's labels: "Closed" and "Won"
    report = merge_preset(SF_PRESETS["opportunities"], ["Stage", "Won", "Closed"], {}, {}, 1)
    assert report.outcome is not None and report.outcome.columns == ("Closed", "Won")
    # HubSpot: "Is Closed Won" where the export has it, else the won probability
    hs_header = ["Deal Stage", "Is Deal Closed?", "Deal probability"]
    hs = merge_preset(HS_PRESETS["opportunities"], hs_header, {}, {}, "auto")
    assert hs.outcome is not None and hs.outcome.columns == ("Is Deal Closed?", "Deal probability")
    frame = pl.DataFrame(
        {
            "Is Deal Closed?": ["true", "true", "false", "true"],
            "Deal probability": ["1", "0", "0.9", "0.5"],
        }
    )
    assert hs.outcome.outcomes(frame).to_list() == ["won", "lost", "open", None]
    won_flag = merge_preset(HS_PRESETS["opportunities"], [*hs_header, "Is Closed Won"], {}, {}, 1)
    assert won_flag.outcome is not None
    assert won_flag.outcome.columns == ("Is Deal Closed?", "Is Closed Won")
    # without the closed flag there is no outcome: the stage decides
    assert merge_preset(SF_PRESETS["opportunities"], ["Stage", "Won"], {}, {}, 1).outcome is None


def test_the_sources_own_outcome_values_and_column() -> None:
    preset = PD_PRESETS["opportunities"]
    m = merge_preset(preset, ["Fase", "Stato"], {}, {}, "auto", {"Vinto": "won"}, "Stato")
    assert m.outcome is not None and m.outcome_missing == ()
    frame = pl.DataFrame({"Fase": ["a", "b"], "Stato": ["vinto", "Perso"]})
    assert m.outcome.outcomes(frame).to_list() == ["won", None]
    missing = merge_preset(preset, ["Fase", "Stato"], {}, {}, "auto")
    assert missing.outcome is None
    assert missing.outcome_missing == ("Status", "Statut", "Estado", "status")


def test_a_close_before_the_creation_day_is_a_warning_compared_by_day() -> None:
    from funnel.quality.checks import entity_checks, with_helper_columns
    from funnel.quality.runner import run_suite
    from transforms.schema import OPPORTUNITIES

    created = datetime(2026, 6, 4, 15, 20)
    frame = pl.DataFrame(
        {
            "_gid": [0, 1, 2, 3],
            "stage": ["won"] * 4,
            "stage_label": ["Won"] * 4,
            "created_at": [created] * 4,
            "closed_at": [
                datetime(2026, 6, 4),  # date-only, same day: fine
                datetime(2026, 6, 4, 9),  # a time earlier that day: before creation
                datetime(2026, 6, 3),  # date-only, the day before: before creation
                datetime(2026, 6, 5, 9),
            ],
        }
    )
    check = [
        c for c in entity_checks(OPPORTUNITIES, date(2026, 10, 31), {})
        if c.name == "closed_after_created"
    ]  # fmt: skip
    assert [c.severity for c in check] == ["warn"]
    failures = run_suite("opportunities", with_helper_columns(frame, OPPORTUNITIES), check)
    assert sorted(failures.failures.get_column("_gid").to_list()) == [1, 2]


@pytest.mark.parametrize(
    ("fmt", "header", "row"),
    [
        ("salesforce", "Opportunity ID,Stage,Forecast Category", "0061,Prospecting,Best Case"),
        ("salesforce", "Id,StageName,ForecastCategoryName", "0061,Prospecting,Best Case"),
        ("hubspot", "Record ID,Deal Stage,Forecast category", "1001,Qualified To Buy,Best Case"),
        ("hubspot", "id,dealstage,hs_manual_forecast_category", "1001,qualifiedtobuy,BEST_CASE"),
    ],
)
def test_presets_read_the_forecast_category(
    tmp_path: Path, fmt: str, header: str, row: str
) -> None:
    (tmp_path / "deals.csv").write_text(f"{header}\n{row}\n")
    rows = load(tmp_path, fmt, "opportunities", "deals.csv")
    assert rows.get_column("forecast_category").to_list() == [row.rsplit(",", 1)[1]]
