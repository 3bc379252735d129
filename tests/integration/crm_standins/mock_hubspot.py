"""HubSpot CRM v3 as documented: objects list with `paging.next.after`, search, batch read with
`propertiesWithHistory`, 401 body; and a deals export in HubSpot's own header spelling."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tests.integration.crm_standins.records import Deal, iso_z, plain
from tests.integration.crm_standins.server import MockApi, Request, Response

TOKEN = "pat-na1-test-0000-secret"
PAGE = 3  # the server's page size (HubSpot may return fewer than `limit`)

STAGE_ID = {
    "prospecting": "appointmentscheduled",
    "qualification": "qualifiedtobuy",
    "meeting": "presentationscheduled",
    "proposal": "decisionmakerboughtin",
    "negotiation": "contractsent",
    "won": "closedwon",
    "lost": "closedlost",
}
STAGE_LABEL = {
    "prospecting": "Appointment Scheduled",
    "qualification": "Qualified To Buy",
    "meeting": "Presentation Scheduled",
    "proposal": "Decision Maker Bought-In",
    "negotiation": "Contract Sent",
    "won": "Closed Won",
    "lost": "Closed Lost",
}
OWNER_ID = {"Ana Ruiz": "71", "Ben Okafor": "72", "Chen Li": "73"}
DENIED = {
    "status": "error",
    "message": "Authentication credentials not found.",
    "category": "INVALID_AUTHENTICATION",
}


def deal_object(d: Deal, with_history: bool = False) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": d.id,
        "properties": {
            "hs_object_id": d.id,
            "dealname": d.name,
            "dealstage": STAGE_ID[d.stage],
            "pipeline": "default",
            "amount": f"{d.amount:g}",
            "deal_currency_code": "EUR",
            "closedate": f"{d.close.isoformat()}T00:00:00Z",
            "createdate": iso_z(d.created),
            "hubspot_owner_id": OWNER_ID[d.owner],
            "hs_deal_stage_probability": f"{d.probability:g}",
            "closed_lost_reason": "Price" if d.stage == "lost" else None,
            "hs_lastmodifieddate": iso_z(d.modified),
        },
        "createdAt": iso_z(d.created),
        "updatedAt": iso_z(d.modified),
        "archived": False,
    }
    if with_history:
        obj["propertiesWithHistory"] = {
            "dealstage": [
                {"value": STAGE_ID[s], "timestamp": iso_z(t), "sourceType": "CRM_UI"}
                for s, t in reversed(d.history)  # HubSpot lists the newest first
            ]
        }
    return obj


CONTACTS = [
    {
        "id": "501",
        "properties": {
            "hs_object_id": "501", "email": "Ada@Moss.example", "firstname": "Ada",
            "lastname": "Moss", "phone": "+1 555 0100", "company": "Moss Ltd",
            "hs_analytics_source": "ORGANIC_SEARCH", "hubspot_owner_id": "71",
            "lifecyclestage": "marketingqualifiedlead",
            "createdate": "2026-03-01T10:00:00.000Z",
            "lastmodifieddate": "2026-03-02T10:00:00.000Z",
        },
    },
    {
        "id": "502",
        "properties": {
            "hs_object_id": "502", "email": "bo@lind.example", "firstname": "Bo",
            "lastname": "Lind", "phone": None, "company": "Lind AB",
            "hs_analytics_source": "PAID_SEARCH", "hubspot_owner_id": "73",
            "lifecyclestage": "customer",
            "createdate": "2026-04-01T09:00:00.000Z",
            "lastmodifieddate": "2026-05-01T09:00:00.000Z",
        },
    },
]  # fmt: skip


class HubSpotApi(MockApi):
    def __init__(self, deals: list[Deal]) -> None:
        self.deals = deals
        super().__init__(self.route, self.authorized, DENIED)

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    def _page(self, items: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
        start = int(after or 0)
        body: dict[str, Any] = {"results": items[start : start + PAGE]}
        if start + PAGE < len(items):
            body["paging"] = {"next": {"after": str(start + PAGE), "link": "?after=..."}}
        return body

    def route(self, request: Request) -> Response:
        history = "propertiesWithHistory" in request.query or (
            isinstance(request.body, dict) and "propertiesWithHistory" in request.body
        )
        if request.method == "GET" and request.path == "/crm/v3/objects/deals":
            items = [deal_object(d, history) for d in self.deals]
            return Response(200, self._page(items, request.query.get("after")))
        if request.method == "POST" and request.path == "/crm/v3/objects/deals/search":
            (flt,) = request.body["filterGroups"][0]["filters"]
            assert flt["propertyName"] == "hs_lastmodifieddate" and flt["operator"] == "GT"
            changed = sorted(
                (d for d in self.deals if iso_z(d.modified) > flt["value"]),
                key=lambda d: d.modified,
            )
            items = [deal_object(d) for d in changed]
            body = self._page(items, request.body.get("after"))
            return Response(200, {"total": len(items), **body})
        if request.method == "POST" and request.path == "/crm/v3/objects/deals/batch/read":
            ids = {i["id"] for i in request.body["inputs"]}
            items = [deal_object(d, history) for d in self.deals if d.id in ids]
            return Response(200, {"status": "COMPLETE", "results": items})
        if request.method == "GET" and request.path == "/crm/v3/objects/contacts":
            return Response(200, self._page(CONTACTS, request.query.get("after")))
        if request.method == "GET" and request.path == "/crm/v3/owners":
            owners = [
                {"id": i, "email": f"{n.split()[0].lower()}@example.com",
                 "firstName": n.split()[0], "lastName": n.split()[1], "archived": False}
                for n, i in OWNER_ID.items()
            ]  # fmt: skip
            return Response(200, self._page(owners, request.query.get("after")))
        return Response(404, {"status": "error", "message": f"no route {request.path}"})


def write_deals_export(path: Path, deals: list[Deal]) -> Path:
    """A HubSpot deals export (Export view > CSV): property labels as headers."""
    header = [
        "Record ID",
        "Deal Name",
        "Deal Stage",
        "Pipeline",
        "Amount",
        "Currency",
        "Close Date",
        "Create Date",
        "Deal owner",
        "Deal probability",
        "Closed Lost Reason",
        "Last Modified Date",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for d in deals:
            w.writerow(
                [
                    d.id,
                    d.name,
                    STAGE_LABEL[d.stage],
                    "Sales Pipeline",
                    f"{d.amount:g}",
                    "EUR",
                    f"{d.close.isoformat()} 00:00",
                    plain(d.created),
                    d.owner,
                    f"{d.probability:g}",
                    "Price" if d.stage == "lost" else "",
                    plain(d.modified),
                ]
            )
    return path


def write_contacts_export(path: Path) -> Path:
    """A HubSpot contacts export with its default columns."""
    rows = [
        ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name",
         "Contact owner", "Lifecycle Stage", "Original Source", "Create Date",
         "Last Modified Date"],
        ["501", "Ada", "Moss", "ada@moss.example", "+1 555 0100", "Moss Ltd", "Ana Ruiz",
         "Marketing Qualified Lead", "Organic Search", "2026-03-01 10:00", "2026-03-02 10:00"],
        ["502", "Bo", "Lind", "bo@lind.example", "", "Lind AB", "Chen Li", "Customer",
         "Paid Search", "2026-04-01 09:00", "2026-05-01 09:00"],
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path
