"""Pipedrive API v1 as documented: `start`/`limit` offset paging with
`additional_data.pagination`, `/v1/recents`, `/v1/deals/{id}/flow`, stages, pipelines, 401 body;
and a deals export in Pipedrive's own header spelling ("Deal - Title")."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from tests.integration.crm_standins.records import Deal, plain
from tests.integration.crm_standins.server import MockApi, Request, Response

TOKEN = "0123456789abcdef-pipedrive-secret"
PAGE = 3

STAGES = [
    (1, "Lead In", "prospecting"),
    (2, "Qualified", "qualification"),
    (3, "Demo Scheduled", "meeting"),
    (4, "Proposal Made", "proposal"),
    (5, "Negotiations Started", "negotiation"),
]
STAGE_ID = {canonical: i for i, _, canonical in STAGES}
STAGE_NAME = {canonical: name for _, name, canonical in STAGES}
OWNER_ID = {"Ana Ruiz": 11, "Ben Okafor": 12, "Chen Li": 13}
DENIED = {"success": False, "error": "unauthorized access", "errorCode": 401}


def status(d: Deal) -> str:
    return d.stage if d.stage in ("won", "lost") else "open"


def deal_json(d: Deal) -> dict[str, Any]:
    closed = status(d) != "open"
    close_time = f"{d.close.isoformat()} 12:00:00" if closed else None
    return {
        "id": int(d.id),
        "title": d.name,
        "value": d.amount,
        "currency": "EUR",
        "status": status(d),
        "stage_id": STAGE_ID[d.last_open_stage],
        "pipeline_id": 1,
        "user_id": {"id": OWNER_ID[d.owner], "name": d.owner, "email": "x@example.com"},
        "org_id": {"name": d.account, "value": 900 + int(d.id) % 4},
        "person_id": {"name": "Someone", "email": [{"value": "s@example.com", "primary": True}]},
        "add_time": plain(d.created),
        "update_time": plain(d.modified),
        "expected_close_date": d.close.isoformat(),
        "close_time": close_time,
        "won_time": close_time if d.stage == "won" else None,
        "lost_time": close_time if d.stage == "lost" else None,
        "lost_reason": "Price" if d.stage == "lost" else None,
        "probability": round(d.probability * 100),
    }


def flow_json(d: Deal) -> list[dict[str, Any]]:
    """dealChange entries for each stage move (and the won/lost status), newest first."""
    out: list[dict[str, Any]] = []
    prev: str | None = None
    for i, (stage, at) in enumerate(d.history):
        if i == 0:
            prev = stage
            continue
        if stage in ("won", "lost"):
            field, old, new = "status", "open", stage
        else:
            field, old, new = "stage_id", str(STAGE_ID[prev or "prospecting"]), str(STAGE_ID[stage])
            prev = stage
        out.append(
            {
                "object": "dealChange",
                "timestamp": plain(at),
                "data": {
                    "id": int(d.id) * 100 + i,
                    "item_id": int(d.id),
                    "user_id": OWNER_ID[d.owner],
                    "field_key": field,
                    "old_value": old,
                    "new_value": new,
                    "is_bulk_update_flag": None,
                    "log_time": plain(at),
                    "change_source": "app",
                },
            }
        )
    out.append({"object": "activity", "timestamp": plain(d.created), "data": {"id": 1}})
    return list(reversed(out))


class PipedriveApi(MockApi):
    def __init__(self, deals: list[Deal]) -> None:
        self.deals = deals
        super().__init__(self.route, self.authorized, DENIED)

    def authorized(self, request: Request) -> bool:
        return request.headers.get("x-api-token") == TOKEN

    def _page(self, items: list[Any], request: Request) -> Response:
        start = int(request.query.get("start", 0))
        more = start + PAGE < len(items)
        pagination: dict[str, Any] = {
            "start": start,
            "limit": PAGE,
            "more_items_in_collection": more,
        }
        if more:
            pagination["next_start"] = start + PAGE
        return Response(
            200,
            {
                "success": True,
                "data": items[start : start + PAGE] or None,
                "additional_data": {"pagination": pagination},
            },
        )

    def route(self, request: Request) -> Response:
        if request.path == "/v1/stages":
            stages = [{"id": i, "name": n, "pipeline_id": 1, "order_nr": i} for i, n, _ in STAGES]
            return self._page(stages, request)
        if request.path == "/v1/pipelines":
            return self._page([{"id": 1, "name": "Sales", "active": True}], request)
        if request.path == "/v1/deals":
            assert request.query.get("status") == "all_not_deleted"
            return self._page([deal_json(d) for d in self.deals], request)
        if request.path == "/v1/recents":
            since = request.query["since_timestamp"]
            assert request.query.get("items") == "deal"
            changed = sorted((d for d in self.deals if plain(d.modified) > since),
                             key=lambda d: d.modified)  # fmt: skip
            items = [{"item": "deal", "id": int(d.id), "data": deal_json(d)} for d in changed]
            return self._page(items, request)
        if m := re.fullmatch(r"/v1/deals/(\d+)/flow", request.path):
            (deal,) = [d for d in self.deals if d.id == m.group(1)]
            return self._page(flow_json(deal), request)
        return Response(404, {"success": False, "error": f"no route {request.path}"})


def write_deals_export(path: Path, deals: list[Deal]) -> Path:
    """A Pipedrive deals export (Deals list > Export): "Deal - " headers, stage names, status."""
    header = [
        "Deal - ID",
        "Deal - Title",
        "Deal - Value",
        "Deal - Currency of value",
        "Deal - Organization",
        "Deal - Contact person",
        "Deal - Owner",
        "Deal - Stage",
        "Deal - Status",
        "Deal - Pipeline",
        "Deal - Probability",
        "Deal - Deal created",
        "Deal - Update time",
        "Deal - Expected close date",
        "Deal - Won time",
        "Deal - Lost time",
        "Deal - Closed on",
        "Deal - Lost reason",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for d in deals:
            j = deal_json(d)
            w.writerow(
                [
                    d.id,
                    d.name,
                    f"{d.amount:g}",
                    "EUR",
                    d.account,
                    "Someone",
                    d.owner,
                    STAGE_NAME[d.last_open_stage],
                    status(d).capitalize(),
                    "Sales",
                    j["probability"],
                    plain(d.created),
                    plain(d.modified),
                    d.close.isoformat(),
                    j["won_time"] or "",
                    j["lost_time"] or "",
                    j["close_time"] or "",
                    j["lost_reason"] or "",
                ]
            )
    return path
