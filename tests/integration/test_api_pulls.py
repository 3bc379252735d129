"""Each CRM's API pull against its local server: paging, faults, watermarks, canonical rows."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors.http import ConnectorAuthError
from funnel.extract import Extract, extract_api
from funnel.hygiene import clean_source
from tests.integration.crm_standins import mock_hubspot, mock_pipedrive, mock_salesforce
from tests.integration.crm_standins.records import changed_one, deals
from tests.integration.crm_standins.server import Fault, MockApi

EXPECTED_STAGES = {
    "1001": "won",
    "1002": "lost",
    "1003": "negotiation",
    "1004": "proposal",
    "1005": "qualification",
    "1006": "won",
    "1007": "prospecting",
}
TOKENS = {
    "hubspot_api": ("HS_TOKEN", mock_hubspot.TOKEN),
    "pipedrive_api": ("PD_TOKEN", mock_pipedrive.TOKEN),
    "salesforce_api": ("SF_TOKEN", mock_salesforce.TOKEN),
}


def source(fmt: str, api: MockApi, entity: str = "opportunities") -> SourceConfig:
    return SourceConfig.model_validate(
        {
            "name": fmt.removesuffix("_api"),
            "entity": entity,
            "format": fmt,
            "token_env": TOKENS[fmt][0],
            "base_url": api.url,
            "timeout": 1.0,
            "retries": 3,
        }
    )


def pull(
    fmt: str, api: MockApi, monkeypatch: pytest.MonkeyPatch, entity: str = "opportunities",
    watermark: str | None = None,
) -> tuple[Extract, list[float]]:  # fmt: skip
    env, token = TOKENS[fmt]
    monkeypatch.setenv(env, token)
    waits: list[float] = []
    return extract_api(source(fmt, api, entity), watermark, sleep=waits.append), waits


def canonical(extract: Extract, fmt: str, api: MockApi, entity: str) -> pl.DataFrame:
    config = FunnelConfig.model_validate({"sources": [source(fmt, api, entity).model_dump()]})
    return clean_source(config, config.sources[0], extract).rows


def _ids(frame: pl.DataFrame) -> dict[str, str]:
    return {i[-4:]: s for i, s in frame.select("opportunity_id", "stage").iter_rows()}


FAULTS = [
    Fault(429, {"Retry-After": "3"}),
    Fault(500),
    Fault(delay=1.5),  # longer than the 1 s timeout
]


def test_hubspot_full_pull_pages_and_survives_faults(
    hubspot_api: mock_hubspot.HubSpotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    hubspot_api.faults["/crm/v3/objects/deals"] = list(FAULTS)
    extract, waits = pull("hubspot_api", hubspot_api, monkeypatch)
    assert waits == [3.0, 2.0, 4.0]  # Retry-After, then backoff for the 500 and the timeout
    calls = hubspot_api.requests_to("/crm/v3/objects/deals")
    assert [c.query.get("after") for c in calls] == [None, None, None, None, "3", "6"]
    assert calls[0].query["limit"] == "100" and "dealstage" in calls[0].query["properties"]
    assert extract.rows.height == 7 and extract.rows_read == 7
    assert extract.files == ("/crm/v3/objects/deals",)
    assert extract.rows.get_column("_line").to_list() == [1, 2, 3, 4, 5, 6, 7]
    assert set(extract.rows.get_column("_file")) == {"/crm/v3/objects/deals"}
    assert extract.watermark == "2026-07-07T10:20:00.000Z"
    assert not extract.incremental
    rows = canonical(extract, "hubspot_api", hubspot_api, "opportunities")
    assert _ids(rows) == {k[-4:]: v for k, v in EXPECTED_STAGES.items()}
    won = rows.filter(pl.col("opportunity_id") == "1001").row(0, named=True)
    assert won["amount"] == 12000 and won["probability"] == 1.0
    assert won["closed_at"] == datetime(2026, 1, 20)
    assert won["stage_label"] == "closedwon"


def test_hubspot_incremental_pull_uses_search_after_the_watermark(
    hubspot_api: mock_hubspot.HubSpotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    hubspot_api.deals, changed = changed_one(hubspot_api.deals)
    extract, _ = pull("hubspot_api", hubspot_api, monkeypatch, watermark="2026-07-07T10:20:00.000Z")
    call, owners = hubspot_api.log
    assert (call.method, call.path) == ("POST", "/crm/v3/objects/deals/search")
    assert (owners.method, owners.path) == ("GET", "/crm/v3/owners")
    assert call.body["filterGroups"][0]["filters"] == [
        {"propertyName": "hs_lastmodifieddate", "operator": "GT",
         "value": "2026-07-07T10:20:00.000Z"}
    ]  # fmt: skip
    assert extract.rows.get_column("id").to_list() == [changed.id]
    assert extract.incremental and extract.watermark == "2026-10-20T15:00:00.000Z"


def test_hubspot_stage_history(
    hubspot_api: mock_hubspot.HubSpotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    extract, _ = pull("hubspot_api", hubspot_api, monkeypatch, entity="stage_history")
    calls = hubspot_api.requests_to("/crm/v3/objects/deals")
    assert {c.query["propertiesWithHistory"] for c in calls} == {"dealstage"}
    assert calls[0].query["limit"] == "50"
    rows = canonical(extract, "hubspot_api", hubspot_api, "stage_history")
    assert rows.height == sum(len(d.history) for d in deals())
    first = rows.filter(pl.col("opportunity_id") == "1001").sort("entered_at")
    assert first.get_column("stage").to_list() == [
        "prospecting", "qualification", "proposal", "negotiation", "won"
    ]  # fmt: skip
    # incremental: search for changed deals, then batch-read their history
    hubspot_api.deals, _ = changed_one(hubspot_api.deals)
    hubspot_api.log.clear()
    extract, _ = pull("hubspot_api", hubspot_api, monkeypatch, "stage_history", extract.watermark)
    assert [(c.method, c.path) for c in hubspot_api.log] == [
        ("POST", "/crm/v3/objects/deals/search"),
        ("POST", "/crm/v3/objects/deals/batch/read"),
    ]
    assert extract.rows.get_column("dealstage").to_list() == [
        "appointmentscheduled", "qualifiedtobuy", "decisionmakerboughtin", "closedwon"
    ]  # fmt: skip


def test_pipedrive_full_pull_offset_pages_and_status_as_stage(
    pipedrive_api: mock_pipedrive.PipedriveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipedrive_api.faults["/v1/deals"] = list(FAULTS)
    extract, waits = pull("pipedrive_api", pipedrive_api, monkeypatch)
    assert waits == [3.0, 2.0, 4.0]
    starts = [c.query["start"] for c in pipedrive_api.requests_to("/v1/deals")]
    assert starts == ["0", "0", "0", "0", "3", "6"]
    assert extract.rows.height == 7 and extract.watermark == "2026-07-07 10:20:00"
    rows = canonical(extract, "pipedrive_api", pipedrive_api, "opportunities")
    assert _ids(rows) == EXPECTED_STAGES
    won = rows.filter(pl.col("opportunity_id") == "1001").row(0, named=True)
    # won by its status; its label is the stage it was won in
    assert (won["stage"], won["stage_label"]) == ("won", "Negotiations Started")
    assert won["probability"] == 1.0
    assert won["owner"] == "Ben Okafor" and won["account"] == "Account 1"
    assert won["closed_at"] == datetime(2026, 1, 20, 12)


def test_pipedrive_incremental_uses_recents_and_flow(
    pipedrive_api: mock_pipedrive.PipedriveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipedrive_api.deals, _ = changed_one(pipedrive_api.deals)
    extract, _ = pull(
        "pipedrive_api", pipedrive_api, monkeypatch, "stage_history", "2026-07-07 10:20:00"
    )
    recents = pipedrive_api.requests_to("/v1/recents")
    assert [r.query["since_timestamp"] for r in recents] == ["2026-07-07 10:20:00"]
    flow_pages = [r.path for r in pipedrive_api.requests_to("/v1/deals")]
    assert flow_pages == ["/v1/deals/1004/flow"] * 2
    rows = canonical(extract, "pipedrive_api", pipedrive_api, "stage_history")
    assert rows.sort("entered_at").get_column("stage").to_list() == [
        "prospecting", "qualification", "proposal", "won"
    ]  # fmt: skip
    assert extract.watermark == "2026-10-20 15:00:00" and extract.incremental


def test_salesforce_follows_next_records_url_and_history(
    salesforce_api: mock_salesforce.SalesforceApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    salesforce_api.faults["/services/data/v60.0/query"] = list(FAULTS)
    extract, waits = pull("salesforce_api", salesforce_api, monkeypatch)
    assert waits == [3.0, 2.0, 4.0]
    paths = [c.path for c in salesforce_api.log]
    assert paths[-2:] == [
        "/services/data/v60.0/query/01g00000-3",
        "/services/data/v60.0/query/01g00000-6",
    ]
    soql = salesforce_api.log[0].query["q"]
    assert soql.startswith("SELECT Id, Name, StageName") and "WHERE" not in soql
    rows = canonical(extract, "salesforce_api", salesforce_api, "opportunities")
    assert {k[-4:]: v for k, v in _ids(rows).items()} == EXPECTED_STAGES
    won = rows.filter(pl.col("opportunity_id") == "0061001").row(0, named=True)
    assert won["probability"] == 1.0 and won["owner"] == "Ben Okafor"
    assert won["account"] == "Account 1" and won["closed_at"] == datetime(2026, 1, 20)
    assert extract.watermark == "2026-07-07T10:20:00.000+0000"

    salesforce_api.deals, _ = changed_one(salesforce_api.deals)
    salesforce_api.log.clear()
    extract, _ = pull("salesforce_api", salesforce_api, monkeypatch, "stage_history",
                      extract.watermark)  # fmt: skip
    call, next_batch = salesforce_api.log
    assert next_batch.path == "/services/data/v60.0/query/01g00001-3"
    assert (
        "FROM OpportunityHistory WHERE Opportunity.SystemModstamp > 2026-07-07T10:20:00Z"
        in (call.query["q"])
    )
    rows = canonical(extract, "salesforce_api", salesforce_api, "stage_history")
    assert rows.get_column("stage").to_list() == [
        "prospecting", "qualification", "proposal", "won"
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["hubspot_api", "pipedrive_api", "salesforce_api"])
def test_401_names_the_source_never_the_token(
    fmt: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = request.getfixturevalue(fmt.removesuffix("_api") + "_api")
    env, _ = TOKENS[fmt]
    monkeypatch.setenv(env, "expired-token-xyz")
    with pytest.raises(ConnectorAuthError) as e:
        extract_api(source(fmt, api), None, sleep=lambda s: None)
    assert f"source {fmt.removesuffix('_api')!r}" in str(e.value)
    assert f"${env}" in str(e.value) and "expired-token-xyz" not in str(e.value)
    assert len(api.log) == 1


def test_hubspot_owner_names_and_fallback_to_ids_without_the_owners_scope(
    hubspot_api: mock_hubspot.HubSpotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    extract, _ = pull("hubspot_api", hubspot_api, monkeypatch)
    rows = canonical(extract, "hubspot_api", hubspot_api, "opportunities")
    assert rows.filter(pl.col("opportunity_id") == "1001").get_column("owner").item() == (
        "Ben Okafor"
    )
    hubspot_api.broken["/crm/v3/owners"] = Fault(403)
    extract, _ = pull("hubspot_api", hubspot_api, monkeypatch)
    rows = canonical(extract, "hubspot_api", hubspot_api, "opportunities")
    assert rows.filter(pl.col("opportunity_id") == "1001").get_column("owner").item() == "72"


@pytest.mark.parametrize("fmt", ["hubspot_api", "salesforce_api"])
def test_leads_pull(
    fmt: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = request.getfixturevalue(fmt.removesuffix("_api") + "_api")
    extract, _ = pull(fmt, api, monkeypatch, entity="leads")
    rows = canonical(extract, fmt, api, "leads")
    assert [(i[-3:], s, e) for i, s, e in rows.select("lead_id", "stage", "email").rows()] == [
        ("501" if fmt == "hubspot_api" else "001", "qualification", "ada@moss.example"),
        ("502" if fmt == "hubspot_api" else "002", "won", "bo@lind.example"),
    ]
    assert rows.get_column("created_at").to_list()[1] == datetime(2026, 4, 1, 9)
    assert rows.get_column("owner").to_list() == ["Ana Ruiz", "Chen Li"]
    assert extract.watermark is not None and extract.watermark.startswith(
        "2026-05-01" if fmt == "hubspot_api" else "2026-04-20"
    )
