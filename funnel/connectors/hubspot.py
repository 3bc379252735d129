"""HubSpot: contacts and deals export presets, and CRM v3 object pulls with cursor paging.

Exports spell columns by property label in the user's language ("Record ID", "Deal Stage",
"Create Date"; French "Phase de la transaction"); the API returns internal property names
(`dealstage`, `createdate`) and internal stage ids (`closedwon`); the preset knows both. A
deal's outcome comes from "Is Deal Closed?" with "Is Closed Won" or, without it, the deal
probability (1 won, 0 lost), whatever its stage label. Full pulls page
`GET /crm/v3/objects/{object}` by the `paging.next.after` cursor; incremental pulls use the
search endpoint filtered on the last modified date. Stage history is the `dealstage`
property's history (`propertiesWithHistory`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from funnel.connectors.base import Connector, Preset, Pulled, bearer, latest
from funnel.connectors.http import ApiClient, ConnectorAuthError, PageGuard
from funnel.connectors.outcome import ClosedFlags

log = logging.getLogger(__name__)

# --- settings ---------------------------------------------------------------------------------

DEFAULT_BASE_URL = "https://api.hubapi.com"
PAGE_SIZE = 100
#: HubSpot returns at most 50 records a page when property history is asked for.
HISTORY_PAGE_SIZE = 50

#: The default "Sales Pipeline": stage labels (exports) and internal ids (API).
DEAL_STAGES: dict[str, str] = {
    "Appointment Scheduled": "prospecting",
    "appointmentscheduled": "prospecting",
    "Qualified To Buy": "qualification",
    "qualifiedtobuy": "qualification",
    "Presentation Scheduled": "meeting",
    "presentationscheduled": "meeting",
    "Decision Maker Bought-In": "proposal",
    "decisionmakerboughtin": "proposal",
    "Contract Sent": "negotiation",
    "contractsent": "negotiation",
    "Closed Won": "won",
    "closedwon": "won",
    "Closed Lost": "lost",
    "closedlost": "lost",
}
#: Contact lifecycle stages: labels and internal values.
LIFECYCLE_STAGES: dict[str, str] = {
    "Subscriber": "prospecting",
    "subscriber": "prospecting",
    "Lead": "prospecting",
    "lead": "prospecting",
    "Marketing Qualified Lead": "qualification",
    "marketingqualifiedlead": "qualification",
    "Sales Qualified Lead": "qualification",
    "salesqualifiedlead": "qualification",
    "Opportunity": "meeting",
    "opportunity": "meeting",
    "Customer": "won",
    "customer": "won",
    "Evangelist": "post_sale",
    "evangelist": "post_sale",
}

#: A deal's own outcome: closed, and won (or its probability: 1 won, 0 lost).
DEAL_OUTCOME = ClosedFlags(
    closed=("Is Deal Closed?", "hs_is_closed"),
    won=("Is Closed Won", "hs_is_closed_won"),
    won_probability=("Deal probability", "hs_deal_stage_probability"),
)

PRESETS: dict[str, Preset] = {
    "leads": Preset(
        columns={
            "lead_id": ("Record ID", "Contact ID", "hs_object_id", "id"),
            "created_at": ("Create Date", "createdate"),
            "email": ("Email", "email"),
            "phone": ("Phone Number", "phone"),
            "company": ("Company Name", "company"),
            "source": ("Original Source", "hs_analytics_source"),
            "owner": ("Contact owner", "owner_name", "hubspot_owner_id"),
            "stage": ("Lifecycle Stage", "lifecyclestage"),
            "updated_at": ("Last Modified Date", "lastmodifieddate"),
        },
        stages=LIFECYCLE_STAGES,
    ),
    "opportunities": Preset(
        # property labels (English, then French), then internal names
        columns={
            "opportunity_id": (
                "Record ID",
                "Deal ID",
                "ID de fiche d'informations",
                "hs_object_id",
                "id",
            ),
            "stage": ("Deal Stage", "Phase de la transaction", "dealstage"),
            "owner": (
                "Deal owner",
                "Deal Owner",
                "Propriétaire de la transaction",
                "owner_name",
                "hubspot_owner_id",
            ),
            "amount": ("Amount", "Montant", "amount"),
            "currency": ("Currency", "deal_currency_code"),
            "created_at": ("Create Date", "Date de création", "createdate"),
            "expected_close_date": ("Close Date", "Date de fermeture", "closedate"),
            "probability": ("Deal probability", "hs_deal_stage_probability"),
            "forecast_category": ("Forecast category", "hs_manual_forecast_category"),
            "lost_reason": ("Closed Lost Reason", "closed_lost_reason"),
            "pipeline": ("Pipeline", "pipeline"),
            "updated_at": ("Last Modified Date", "hs_lastmodifieddate"),
        },
        stages=DEAL_STAGES,
        probability_scale=1,
        closed_at_from_close_date=True,
        outcome=DEAL_OUTCOME,
    ),
    "stage_history": Preset(
        columns={
            "opportunity_id": ("Record ID", "Deal ID", "id"),
            "stage": ("Deal Stage", "dealstage"),
            "entered_at": ("timestamp",),
        },
        stages=DEAL_STAGES,
    ),
}

#: Per entity: (object type, properties asked for, last-modified property).
OBJECTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "leads": (
        "contacts",
        (
            "email",
            "firstname",
            "lastname",
            "phone",
            "company",
            "hs_analytics_source",
            "hubspot_owner_id",
            "lifecyclestage",
            "createdate",
            "lastmodifieddate",
        ),
        "lastmodifieddate",
    ),
    "opportunities": (
        "deals",
        (
            "dealname",
            "dealstage",
            "pipeline",
            "amount",
            "deal_currency_code",
            "closedate",
            "createdate",
            "hubspot_owner_id",
            "hs_deal_stage_probability",
            "closed_lost_reason",
            "hs_lastmodifieddate",
        ),
        "hs_lastmodifieddate",
    ),
    "stage_history": ("deals", ("dealstage", "hs_lastmodifieddate"), "hs_lastmodifieddate"),
}
HISTORY_FIELDS = ("id", "dealstage", "timestamp", "sourceType")
OWNERS_PATH = "/crm/v3/owners"

# --- helpers ----------------------------------------------------------------------------------


def list_pages(
    client: ApiClient, path: str, params: dict[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    """Pages of `GET /crm/v3/objects/...`, following `paging.next.after` (bounded: PageGuard)."""
    guard = PageGuard(client, f"GET {path}")
    after: str | None = None
    while True:
        page = client.request("GET", path, params={**params, **({"after": after} if after else {})})
        results = list(page.get("results", []))
        yield results
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return
        guard.next(after, len(results))


def search_pages(
    client: ApiClient, object_type: str, prop: str, since: str, properties: tuple[str, ...]
) -> Iterator[list[dict[str, Any]]]:
    """Pages of the search endpoint: records whose `prop` is after `since`, oldest first."""
    path = f"/crm/v3/objects/{object_type}/search"
    guard = PageGuard(client, f"POST {path}")
    after: str | None = None
    while True:
        body: dict[str, Any] = {
            "filterGroups": [
                {"filters": [{"propertyName": prop, "operator": "GT", "value": since}]}
            ],
            "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": PAGE_SIZE,
        }
        if after:
            body["after"] = after
        page = client.request("POST", path, json=body)
        results = list(page.get("results", []))
        yield results
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return
        guard.next(after, len(results))


def record_row(result: dict[str, Any], owners: dict[str, str]) -> dict[str, Any]:
    """One object: its id and its properties by the API's own names, and its owner's name."""
    props = result.get("properties") or {}
    row = {"id": result.get("id"), **props}
    if owners:
        row["owner_name"] = owners.get(str(props.get("hubspot_owner_id")))
    return row


def owner_names(client: ApiClient) -> dict[str, str]:
    """Owner id -> "First Last" (or email), as exports show owners. Without the owners scope
    (403) the ids are kept and the pull goes on."""
    try:
        pages = list(list_pages(client, OWNERS_PATH, {"limit": PAGE_SIZE}))
    except ConnectorAuthError:
        log.warning("source %r: no access to %s; owners stay ids", client.source, OWNERS_PATH)
        return {}
    names = {}
    for o in (o for page in pages for o in page):
        full = " ".join(p for p in (o.get("firstName"), o.get("lastName")) if p)
        names[str(o.get("id"))] = full or str(o.get("email") or o.get("id"))
    return names


def history_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per value the deal's `dealstage` ever had, oldest first."""
    versions = (result.get("propertiesWithHistory") or {}).get("dealstage") or []
    rows = [
        {
            "id": result.get("id"),
            "dealstage": v.get("value"),
            "timestamp": v.get("timestamp"),
            "sourceType": v.get("sourceType"),
        }
        for v in versions
    ]
    return sorted(rows, key=lambda r: r["timestamp"] or "")


def _changed(results: list[dict[str, Any]], prop: str) -> list[str | None]:
    return [(r.get("properties") or {}).get(prop) for r in results]


# --- entry point ------------------------------------------------------------------------------


def pull(client: ApiClient, entity: str, watermark: str | None) -> Pulled:
    """Contacts, deals or deal stage history; incremental (search) when a watermark is given."""
    object_type, properties, modified = OBJECTS[entity]
    path = f"/crm/v3/objects/{object_type}"
    results: list[dict[str, Any]] = []
    if entity == "stage_history":
        results = _stage_history(client, path, properties, modified, watermark)
        records = [row for r in results for row in history_rows(r)]
        fields: tuple[str, ...] = HISTORY_FIELDS
    else:
        if watermark is None:
            params = {"limit": PAGE_SIZE, "properties": ",".join(properties), "archived": "false"}
            pages = list_pages(client, path, params)
        else:
            pages = search_pages(client, object_type, modified, watermark, properties)
        results = [r for page in pages for r in page]
        owners = owner_names(client) if results else {}
        records = [record_row(r, owners) for r in results]
        fields = ("id", *properties, *(("owner_name",) if owners else ()))
    return Pulled(
        endpoint=path,
        records=records,
        fields=fields,
        watermark=latest(_changed(results, modified), watermark),
        incremental=watermark is not None,
    )


def _stage_history(
    client: ApiClient,
    path: str,
    properties: tuple[str, ...],
    modified: str,
    watermark: str | None,
) -> list[dict[str, Any]]:
    """Deals with their `dealstage` history: all of them, or those changed since the mark."""
    if watermark is None:
        params = {
            "limit": HISTORY_PAGE_SIZE,
            "properties": ",".join(properties),
            "propertiesWithHistory": "dealstage",
            "archived": "false",
        }
        return [r for page in list_pages(client, path, params) for r in page]
    changed = [
        r for page in search_pages(client, "deals", modified, watermark, properties) for r in page
    ]
    out: list[dict[str, Any]] = []
    for start in range(0, len(changed), HISTORY_PAGE_SIZE):
        chunk = changed[start : start + HISTORY_PAGE_SIZE]
        page = client.request(
            "POST",
            f"{path}/batch/read",
            json={
                "inputs": [{"id": r["id"]} for r in chunk],
                "properties": list(properties),
                "propertiesWithHistory": ["dealstage"],
            },
        )
        out.extend(page.get("results", []))
    return out


EXPORT = Connector(format="hubspot", presets={k: PRESETS[k] for k in ("leads", "opportunities")})
API = Connector(
    format="hubspot_api",
    presets=PRESETS,
    pull=pull,
    default_base_url=DEFAULT_BASE_URL,
    auth_headers=bearer,
)
