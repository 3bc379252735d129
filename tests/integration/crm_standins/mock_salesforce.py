"""Salesforce REST as documented: `GET /services/data/vXX.X/query?q=SOQL` in batches with
`done` / `nextRecordsUrl`, records with `attributes` and nested relationship fields, the
INVALID_SESSION_ID 401; and report exports in Salesforce's own label spelling."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.integration.crm_standins.records import Deal, plain
from tests.integration.crm_standins.server import MockApi, Request, Response

TOKEN = "00D000000000001!AQ0AQsecretsessionid"
VERSION = "v60.0"
BATCH = 3

STAGE = {
    "prospecting": "Prospecting",
    "qualification": "Qualification",
    "meeting": "Needs Analysis",
    "proposal": "Proposal/Price Quote",
    "negotiation": "Negotiation/Review",
    "won": "Closed Won",
    "lost": "Closed Lost",
}
DENIED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def sf_time(t: datetime) -> str:
    """2026-01-05T09:00:00.000+0000, as the REST API spells datetimes."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def probability(stage: str, p: float) -> int:
    return round(p * 100)


def opportunity(d: Deal) -> dict[str, Any]:
    return {
        "attributes": {"type": "Opportunity", "url": f"/services/data/{VERSION}/sobjects/x"},
        "Id": f"006{d.id}",
        "Name": d.name,
        "StageName": STAGE[d.stage],
        "Amount": d.amount,
        "Probability": probability(d.stage, d.probability),
        "CloseDate": d.close.isoformat(),
        "CreatedDate": sf_time(d.created),
        "IsClosed": d.stage in ("won", "lost"),
        "IsWon": d.stage == "won",
        "Account": {"attributes": {"type": "Account"}, "Name": d.account},
        "Owner": {"attributes": {"type": "User"}, "Name": d.owner},
        "LastModifiedDate": sf_time(d.modified),
        "SystemModstamp": sf_time(d.modified),
    }


def history(d: Deal) -> list[dict[str, Any]]:
    return [
        {
            "attributes": {"type": "OpportunityHistory"},
            "Id": f"008{d.id}{i}",
            "OpportunityId": f"006{d.id}",
            "StageName": STAGE[s],
            "Amount": d.amount,
            "Probability": 0,
            "CloseDate": d.close.isoformat(),
            "CreatedDate": sf_time(t),
            "Opportunity": {"attributes": {"type": "Opportunity"},
                            "SystemModstamp": sf_time(d.modified)},
        }
        for i, (s, t) in enumerate(d.history)
    ]  # fmt: skip


LEADS = [
    {
        "attributes": {"type": "Lead"}, "Id": "00Q000000000001", "FirstName": "Ada",
        "LastName": "Moss", "Company": "Moss Ltd", "Email": "ada@moss.example",
        "Phone": "555-0100", "LeadSource": "Web", "Status": "Working - Contacted",
        "Owner": {"attributes": {"type": "User"}, "Name": "Ana Ruiz"},
        "CreatedDate": "2026-03-01T10:00:00.000+0000", "IsConverted": False,
        "ConvertedDate": None, "LastModifiedDate": "2026-03-02T10:00:00.000+0000",
        "SystemModstamp": "2026-03-02T10:00:00.000+0000",
    },
    {
        "attributes": {"type": "Lead"}, "Id": "00Q000000000002", "FirstName": "Bo",
        "LastName": "Lind", "Company": "Lind AB", "Email": "bo@lind.example", "Phone": None,
        "LeadSource": "Partner Referral", "Status": "Closed - Converted",
        "Owner": {"attributes": {"type": "User"}, "Name": "Chen Li"},
        "CreatedDate": "2026-04-01T09:00:00.000+0000", "IsConverted": True,
        "ConvertedDate": "2026-04-20", "LastModifiedDate": "2026-04-20T09:00:00.000+0000",
        "SystemModstamp": "2026-04-20T09:00:00.000+0000",
    },
]  # fmt: skip


class SalesforceApi(MockApi):
    def __init__(self, deals: list[Deal]) -> None:
        self.deals = deals
        self.cursors: dict[str, list[dict[str, Any]]] = {}
        super().__init__(self.route, self.authorized, DENIED)

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    def _batch(self, key: str, records: list[dict[str, Any]], start: int) -> Response:
        done = start + BATCH >= len(records)
        body: dict[str, Any] = {
            "totalSize": len(records),
            "done": done,
            "records": records[start : start + BATCH],
        }
        if not done:
            body["nextRecordsUrl"] = f"/services/data/{VERSION}/query/{key}-{start + BATCH}"
        return Response(200, body)

    def route(self, request: Request) -> Response:
        base = f"/services/data/{VERSION}/query"
        if request.path == base:
            q = request.query["q"]
            obj = re.search(r" FROM (\w+)", q)
            assert obj, q
            where = re.search(r"WHERE ([\w.]+) > (\S+)", q)
            since = where.group(2).replace("Z", ".000+0000") if where else ""
            if obj.group(1) == "Opportunity":
                records = [opportunity(d) for d in self.deals if sf_time(d.modified) > since]
            elif obj.group(1) == "Lead":
                records = [r for r in LEADS if r["SystemModstamp"] > since]
            elif obj.group(1) == "OpportunityHistory":
                records = [h for d in self.deals if sf_time(d.modified) > since for h in history(d)]
            else:
                return Response(400, [{"message": "sObject type not supported",
                                       "errorCode": "INVALID_TYPE"}])  # fmt: skip
            key = f"01g{len(self.cursors):05d}"
            self.cursors[key] = records
            return self._batch(key, records, 0)
        if m := re.fullmatch(rf"{base}/(01g\d+)-(\d+)", request.path):
            return self._batch(m.group(1), self.cursors[m.group(1)], int(m.group(2)))
        return Response(404, [{"message": "The requested resource does not exist",
                               "errorCode": "NOT_FOUND"}])  # fmt: skip


def write_opportunities_report(path: Path, deals: list[Deal]) -> Path:
    """An opportunities report exported as CSV: field labels as headers."""
    header = [
        "Opportunity Owner",
        "Account Name",
        "Opportunity Name",
        "Stage",
        "Amount",
        "Probability (%)",
        "Close Date",
        "Created Date",
        "Last Modified Date",
        "Opportunity ID",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for d in deals:
            w.writerow(
                [
                    d.owner,
                    d.account,
                    d.name,
                    STAGE[d.stage],
                    f"{d.amount:.2f}",
                    probability(d.stage, d.probability),
                    d.close.isoformat(),
                    plain(d.created),
                    plain(d.modified),
                    f"006{d.id}",
                ]
            )
    return path


def write_history_report(path: Path, deals: list[Deal]) -> Path:
    """An "Opportunity History" report as CSV: one row per stage change."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Opportunity ID", "Opportunity Name", "From Stage", "To Stage", "Amount",
                    "Edit Date"])  # fmt: skip
        for d in deals:
            prev = ""
            for s, t in d.history:
                w.writerow([f"006{d.id}", d.name, prev, STAGE[s], f"{d.amount:.2f}", plain(t)])
                prev = STAGE[s]
    return path


def write_data_export_leads(path: Path) -> Path:
    """Lead.csv from the weekly Data Export: API field names as headers."""
    rows = [
        ["Id", "FirstName", "LastName", "Company", "Email", "Phone", "LeadSource", "Status",
         "OwnerId", "CreatedDate", "IsConverted", "ConvertedDate", "LastModifiedDate"],
        ["00Q000000000001", "Ada", "Moss", "Moss Ltd", "ada@moss.example", "555-0100", "Web",
         "Working - Contacted", "005000000000001", "2026-03-01T10:00:00.000Z", "false", "",
         "2026-03-02T10:00:00.000Z"],
        ["00Q000000000002", "Bo", "Lind", "Lind AB", "bo@lind.example", "", "Partner Referral",
         "Closed - Converted", "005000000000002", "2026-04-01T09:00:00.000Z", "true",
         "2026-04-20", "2026-04-20T09:00:00.000Z"],
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path
