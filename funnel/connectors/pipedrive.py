"""Pipedrive: deals export preset, and API v1 pulls of deals and deal flow with offset paging.

A Pipedrive export spells columns in the user's language, with or without a prefix ("Deal -
Status", "Status", "Negócio - Etapa"); the API returns `title`, `stage_id`, `status`. A won or
lost deal keeps the stage it was in, so its outcome comes from its Status (see
funnel.connectors.outcome), whatever the stage says. Full pulls page `GET /v1/deals`
by `start` (`additional_data.pagination.next_start`); incremental pulls page `GET /v1/recents`
since the watermark. Stage history is each deal's flow (`GET /v1/deals/{id}/flow`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from funnel.connectors.base import Connector, Preset, Pulled, latest
from funnel.connectors.columns import find_column
from funnel.connectors.http import ApiClient, PageGuard
from funnel.connectors.outcome import StatusColumn

# --- settings ---------------------------------------------------------------------------------

DEFAULT_BASE_URL = "https://api.pipedrive.com"
PAGE_SIZE = 500

#: Stages of Pipedrive's default pipelines (older and current), and deal statuses.
DEAL_STAGES: dict[str, str] = {
    "Lead In": "prospecting",
    "Qualified": "qualification",
    "Contact Made": "meeting",
    "Demo Scheduled": "meeting",
    "Needs Defined": "meeting",
    "Proposal Made": "proposal",
    "Negotiations Started": "negotiation",
    "Won": "won",
    "Lost": "lost",
}

#: What exports put before each deal column, by the user's language ("Deal - Title"); current
#: English exports have none ("Title"). Sources: docs/decisions.md (2026-12, presets).
PREFIXES = ("Deal - ", "Negócio - ", "Affaire - ", "Trato - ")

#: The deal's Status and its values, by language: en, de, fr, pt-BR, es, and the API's.
STATUS = StatusColumn(
    columns=("Status", "Statut", "Estado", "status"),
    won=("Won", "Gewonnen", "Gagnée", "Ganho", "Ganado"),
    lost=("Lost", "Verloren", "Perdue", "Perdido"),
    open=("Open", "En cours", "Aberto", "Abierto"),
)
#: When the deal was won or lost (exports without a "Deal closed on" column).
WON_TIME = ("Won time", "Datum des gewonnenen Deals", "Heure de la conclusion", "Ganho em")
LOST_TIME = ("Lost time", "Datum des verlorenen Deals", "Heure de l'échec", "Data de perda")
CLOSED_ON = ("Deal closed on", "Closed on", "Close time", "Deal abgeschlossen am",
             "Negócio fechado em", "close_time")  # fmt: skip


def close_time_from_won_or_lost(frame: pl.DataFrame) -> pl.DataFrame:
    """Without a "Deal closed on" column, a closed deal's close time is its won or lost time:
    given as the column `closed_at` (a column spelled like the field is read as it)."""
    header = frame.columns
    if find_column(header, CLOSED_ON, PREFIXES) or "closed_at" in header:
        return frame
    times = [c for c in (find_column(header, n, PREFIXES) for n in (WON_TIME, LOST_TIME)) if c]
    if not times:
        return frame
    return frame.with_columns(pl.coalesce(times).alias("closed_at"))


PRESETS: dict[str, Preset] = {
    "opportunities": Preset(
        # bare spellings: exports with a prefix (PREFIXES) match them too
        columns={
            "opportunity_id": ("ID", "id"),
            "stage": ("Stage", "Phase", "Étape", "Etapa", "stage_name"),
            "account": (
                "Organization",
                "Organisation",
                "Organização",
                "Organización",
                "org_id.name",
                "org_name",
            ),
            "owner": (
                "Owner",
                "Besitzer",
                "Propriétaire",
                "Proprietário",
                "Propietario",
                "user_id.name",
                "owner_name",
            ),
            "amount": ("Value", "Wert", "Valeur", "Valor", "value"),
            "currency": ("Currency of Value", "Currency", "Moeda", "Moneda", "currency"),
            "created_at": (
                "Deal created",
                "Creation date",
                "Deal erstellt",
                "Affaire créée",
                "Negócio criado em",
                "Trato creado",
                "add_time",
            ),
            "expected_close_date": (
                "Expected close date",
                "Voraussichtliches Abschlussdatum",
                "Date de clôture prévue",
                "Data de fechamento esperada",
                "Fecha de cierre prevista",
                "expected_close_date",
            ),
            "closed_at": CLOSED_ON,
            "probability": (
                "Probability",
                "Wahrscheinlichkeit",
                "Probabilidade",
                "Probabilidad",
                "probability",
            ),
            "lost_reason": (
                "Lost reason",
                "Verlustgrund",
                "Raison de la perte",
                "Motivo da perda",
                "lost_reason",
            ),
            "pipeline": ("Pipeline", "Funil", "pipeline_name"),
            "updated_at": (
                "Update time",
                "Zeit der Aktualisierung",
                "Heure de mise à jour",
                "Data atualizada",
                "update_time",
            ),
        },
        stages=DEAL_STAGES,
        probability_scale=100,
        prepare=close_time_from_won_or_lost,
        outcome=STATUS,
        outcome_required=True,
        prefixes=PREFIXES,
    ),
    "stage_history": Preset(
        columns={
            "opportunity_id": ("item_id",),
            "stage": ("stage_name",),
            "entered_at": ("log_time",),
        },
        stages=DEAL_STAGES,
    ),
}

DEAL_FIELDS = (
    "id",
    "title",
    "value",
    "currency",
    "status",
    "stage_id",
    "stage_name",
    "pipeline_id",
    "pipeline_name",
    "user_id.name",
    "org_id.name",
    "add_time",
    "update_time",
    "expected_close_date",
    "close_time",
    "won_time",
    "lost_time",
    "lost_reason",
    "probability",
)
FLOW_FIELDS = ("item_id", "field_key", "old_value", "new_value", "log_time", "stage_name")

# --- helpers ----------------------------------------------------------------------------------


def offset_pages(
    client: ApiClient, path: str, params: dict[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    """Pages of a v1 list endpoint, by `start` until `more_items_in_collection` is false
    (bounded: PageGuard)."""
    guard = PageGuard(client, f"GET {path}")
    guard.seen.add(0)
    start = 0
    while True:
        page = client.request("GET", path, params={**params, "start": start, "limit": PAGE_SIZE})
        rows = list(page.get("data") or [])
        yield rows
        pagination = (page.get("additional_data") or {}).get("pagination") or {}
        if not pagination.get("more_items_in_collection"):
            return
        start = int(pagination["next_start"])
        guard.next(start, len(rows))


def names(client: ApiClient, path: str) -> dict[str, str]:
    """id -> name of stages or pipelines."""
    return {
        str(item["id"]): str(item["name"])
        for page in offset_pages(client, path, {})
        for item in page
    }


def deal_row(
    deal: dict[str, Any], stages: dict[str, str], pipelines: dict[str, str]
) -> dict[str, Any]:
    """A deal with its stage and pipeline names beside their ids."""
    return {
        **deal,
        "stage_name": stages.get(str(deal.get("stage_id"))),
        "pipeline_name": pipelines.get(str(deal.get("pipeline_id"))),
    }


def changed_deals(client: ApiClient, watermark: str | None) -> list[dict[str, Any]]:
    """Every deal (full pull), or the deals changed since the watermark (`/v1/recents`)."""
    if watermark is None:
        pages = offset_pages(client, "/v1/deals", {"status": "all_not_deleted"})
        return [d for page in pages for d in page]
    pages = offset_pages(client, "/v1/recents", {"since_timestamp": watermark, "items": "deal"})
    latest_by_id: dict[Any, dict[str, Any]] = {}
    for page in pages:
        for item in page:
            if item.get("item") == "deal" and item.get("data"):
                latest_by_id[item["data"]["id"]] = item["data"]
    return list(latest_by_id.values())


def flow_rows(
    client: ApiClient, deal: dict[str, Any], stages: dict[str, str]
) -> list[dict[str, Any]]:
    """The deal's stage entries: its first stage at `add_time`, then each stage/status change."""
    changes = [
        c["data"]
        for page in offset_pages(client, f"/v1/deals/{deal['id']}/flow", {})
        for c in page
        if c.get("object") == "dealChange"
        and (c.get("data") or {}).get("field_key") in ("stage_id", "status")
    ]
    changes.sort(key=lambda c: c.get("log_time") or "")
    stage_changes = [c for c in changes if c["field_key"] == "stage_id"]
    first_stage = stage_changes[0]["old_value"] if stage_changes else deal.get("stage_id")
    rows = [
        {
            "item_id": deal["id"],
            "field_key": "add_time",
            "old_value": None,
            "new_value": first_stage,
            "log_time": deal.get("add_time"),
            "stage_name": stages.get(str(first_stage)),
        }
    ]
    for c in changes:
        if c["field_key"] == "status" and c.get("new_value") not in ("won", "lost"):
            continue
        name = stages.get(str(c.get("new_value"))) if c["field_key"] == "stage_id" else None
        rows.append(
            {
                "item_id": deal["id"],
                "field_key": c["field_key"],
                "old_value": c.get("old_value"),
                "new_value": c.get("new_value"),
                "log_time": c.get("log_time"),
                "stage_name": name or c.get("new_value"),
            }
        )
    return rows


# --- entry point ------------------------------------------------------------------------------


def pull(client: ApiClient, entity: str, watermark: str | None) -> Pulled:
    """Deals or their flow; incremental (`/v1/recents`) when a watermark is given."""
    stages = names(client, "/v1/stages")
    pipelines = names(client, "/v1/pipelines")
    deals = changed_deals(client, watermark)
    mark = latest((d.get("update_time") for d in deals), watermark)
    if entity == "stage_history":
        records = [row for d in deals for row in flow_rows(client, d, stages)]
        return Pulled("/v1/deals/{id}/flow", records, FLOW_FIELDS, mark, watermark is not None)
    records = [deal_row(d, stages, pipelines) for d in deals]
    endpoint = "/v1/recents" if watermark is not None else "/v1/deals"
    return Pulled(endpoint, records, DEAL_FIELDS, mark, watermark is not None)


def token_header(token: str) -> dict[str, str]:
    """Pipedrive takes the personal API token in a header (never in the URL here)."""
    return {"x-api-token": token}


EXPORT = Connector(format="pipedrive", presets={"opportunities": PRESETS["opportunities"]})
API = Connector(
    format="pipedrive_api",
    presets=PRESETS,
    pull=pull,
    default_base_url=DEFAULT_BASE_URL,
    auth_headers=token_header,
)
