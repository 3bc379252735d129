"""Salesforce: report / Data Export CSV presets, and REST SOQL pulls with `nextRecordsUrl`.

Exports: a report export spells columns by label ("Opportunity ID", "Stage", "Probability (%)"),
a Data Export or Data Loader file by API name ("Id", "StageName", "Probability"); the preset
knows both. A deal's outcome comes from its IsClosed and IsWon flags where the file has them
("Closed" and "Won" in a report), whatever its stage label. Data Export files that are not
UTF-8 are read as Windows-1252, the export's default ("ISO-8859-1" in its settings). The API
pulls Lead, Opportunity and OpportunityHistory with SOQL; incremental
pulls ask for rows whose `SystemModstamp` is after the watermark (Salesforce keeps datetimes
to the second, so the literal is exact).
"""

from __future__ import annotations

from typing import Any

from funnel.connectors.base import Connector, Preset, Pulled, bearer, latest
from funnel.connectors.http import ApiClient, ConnectorError, PageGuard
from funnel.connectors.outcome import ClosedFlags

# --- settings ---------------------------------------------------------------------------------

API_VERSION = "v60.0"
QUERY_PATH = f"/services/data/{API_VERSION}/query"

#: Default Sales Process stages of an Opportunity (StageName picklist).
OPPORTUNITY_STAGES: dict[str, str] = {
    "Prospecting": "prospecting",
    "Qualification": "qualification",
    "Needs Analysis": "meeting",
    "Value Proposition": "meeting",
    "Id. Decision Makers": "proposal",
    "Perception Analysis": "proposal",
    "Proposal/Price Quote": "proposal",
    "Negotiation/Review": "negotiation",
    "Closed Won": "won",
    "Closed Lost": "lost",
}
#: Default Lead Status picklist.
LEAD_STAGES: dict[str, str] = {
    "Open - Not Contacted": "prospecting",
    "Working - Contacted": "qualification",
    "Closed - Converted": "won",
    "Closed - Not Converted": "lost",
}

#: The flags Salesforce derives from an opportunity's stage: report labels, then API names.
OPPORTUNITY_OUTCOME = ClosedFlags(closed=("Closed", "IsClosed"), won=("Won", "IsWon"))
#: Data Export's default encoding when the file is not UTF-8 (funnel.encodings.detect).
DATA_EXPORT_ENCODING = ("windows-1252", "Salesforce Data Export default")

PRESETS: dict[str, Preset] = {
    "leads": Preset(
        columns={
            "lead_id": ("Lead ID", "Id"),
            "created_at": ("Create Date", "Created Date", "CreatedDate"),
            "email": ("Email",),
            "phone": ("Phone",),
            "company": ("Company / Account", "Company"),
            "source": ("Lead Source", "LeadSource"),
            "owner": ("Lead Owner", "Owner.Name", "OwnerId"),
            "stage": ("Lead Status", "Status"),
            "converted_at": ("Converted Date", "ConvertedDate"),
            "updated_at": ("Last Modified Date", "LastModifiedDate"),
        },
        stages=LEAD_STAGES,
        encoding=DATA_EXPORT_ENCODING,
    ),
    "opportunities": Preset(
        columns={
            "opportunity_id": ("Opportunity ID", "Id"),
            "stage": ("Stage", "StageName"),
            "account": ("Account Name", "Account.Name", "AccountId"),
            "owner": ("Opportunity Owner", "Owner.Name", "OwnerId"),
            "amount": ("Amount",),
            "currency": ("Opportunity Currency", "CurrencyIsoCode"),
            "created_at": ("Created Date", "CreatedDate"),
            "expected_close_date": ("Close Date", "CloseDate"),
            "probability": ("Probability (%)", "Probability"),
            "forecast_category": ("Forecast Category", "ForecastCategoryName"),
            "pipeline": ("Opportunity Record Type", "RecordType.Name"),
            "updated_at": ("Last Modified Date", "LastModifiedDate"),
        },
        stages=OPPORTUNITY_STAGES,
        probability_scale=100,
        closed_at_from_close_date=True,
        outcome=OPPORTUNITY_OUTCOME,
        encoding=DATA_EXPORT_ENCODING,
    ),
    "stage_history": Preset(
        columns={
            "opportunity_id": ("Opportunity ID", "OpportunityId"),
            "stage": ("To Stage", "Stage", "StageName"),
            "entered_at": ("Edit Date", "Last Modified", "Created Date", "CreatedDate"),
            "amount": ("Amount",),
        },
        stages=OPPORTUNITY_STAGES,
        encoding=DATA_EXPORT_ENCODING,
    ),
}

#: SOQL per entity: (object, fields). Relationship fields come back nested and are flattened.
QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "leads": (
        "Lead",
        (
            "Id",
            "FirstName",
            "LastName",
            "Company",
            "Email",
            "Phone",
            "LeadSource",
            "Status",
            "Owner.Name",
            "CreatedDate",
            "IsConverted",
            "ConvertedDate",
            "LastModifiedDate",
            "SystemModstamp",
        ),
    ),
    "opportunities": (
        "Opportunity",
        (
            "Id",
            "Name",
            "StageName",
            "Amount",
            "Probability",
            "CloseDate",
            "CreatedDate",
            "IsClosed",
            "IsWon",
            "Account.Name",
            "Owner.Name",
            "LastModifiedDate",
            "SystemModstamp",
        ),
    ),
    "stage_history": (
        "OpportunityHistory",
        (
            "Id",
            "OpportunityId",
            "StageName",
            "Amount",
            "Probability",
            "CloseDate",
            "CreatedDate",
            "Opportunity.SystemModstamp",
        ),
    ),
}
#: The field whose latest value is the watermark, and the filter an incremental pull uses.
#: History rows never change: a changed opportunity's whole history is pulled again instead.
CHANGED: dict[str, str] = {
    "leads": "SystemModstamp",
    "opportunities": "SystemModstamp",
    "stage_history": "Opportunity.SystemModstamp",
}

# --- helpers ----------------------------------------------------------------------------------


def soql_datetime(watermark: str) -> str:
    """'2024-05-01T10:00:00.000+0000' -> '2024-05-01T10:00:00Z' (a SOQL datetime literal)."""
    return watermark[:19] + "Z"


def soql(entity: str, watermark: str | None) -> str:
    """The SOQL of an entity's pull; with a watermark, only rows changed after it."""
    obj, fields = QUERIES[entity]
    changed = CHANGED[entity]
    where = f" WHERE {changed} > {soql_datetime(watermark)}" if watermark else ""
    return f"SELECT {', '.join(fields)} FROM {obj}{where} ORDER BY {changed}, Id"


def query_all(client: ApiClient, query: str) -> list[dict[str, Any]]:
    """Every record of a SOQL query, following `nextRecordsUrl` until `done` (bounded:
    PageGuard; a next URL on another host is refused by the client)."""
    guard = PageGuard(client, f"GET {QUERY_PATH}")
    page = client.request("GET", QUERY_PATH, params={"q": query})
    records: list[dict[str, Any]] = list(page.get("records", []))
    while not page.get("done", True):
        next_url = page.get("nextRecordsUrl")
        if not next_url:
            raise ConnectorError(
                f"source {client.source!r}: {QUERY_PATH}: done=false without nextRecordsUrl"
            )
        guard.next(next_url, len(page.get("records", [])))
        page = client.request("GET", next_url)
        records.extend(page.get("records", []))
    return records


def _changed_at(record: dict[str, Any], entity: str) -> str | None:
    if entity == "stage_history":
        opportunity = record.get("Opportunity") or {}
        return opportunity.get("SystemModstamp") if isinstance(opportunity, dict) else None
    return record.get("SystemModstamp")


# --- entry point ------------------------------------------------------------------------------


def pull(client: ApiClient, entity: str, watermark: str | None) -> Pulled:
    """Leads, opportunities or opportunity history; incremental when a watermark is given."""
    records = query_all(client, soql(entity, watermark))
    obj, fields = QUERIES[entity]
    return Pulled(
        endpoint=f"{QUERY_PATH} ({obj})",
        records=records,
        fields=fields,
        watermark=latest((_changed_at(r, entity) for r in records), watermark),
        incremental=watermark is not None,
    )


EXPORT = Connector(format="salesforce", presets=PRESETS)
API = Connector(format="salesforce_api", presets=PRESETS, pull=pull, auth_headers=bearer)
