"""The canonical entities, their fields and types, and the canonical stages (CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["id", "text", "email", "phone", "money", "number", "timestamp", "date", "stage"]

#: Canonical stages in funnel order. `won` and `lost` close a record; `post_sale` follows `won`.
STAGES: tuple[str, ...] = (
    "prospecting",
    "qualification",
    "meeting",
    "proposal",
    "negotiation",
    "won",
    "lost",
    "post_sale",
)
CLOSED_STAGES: frozenset[str] = frozenset({"won", "lost", "post_sale"})

#: DuckDB type of each field kind, as stored in the raw tables of the state file.
DUCKDB_TYPES: dict[FieldKind, str] = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "email": "VARCHAR",
    "phone": "VARCHAR",
    "stage": "VARCHAR",
    "money": "DOUBLE",
    "number": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}


@dataclass(frozen=True)
class Entity:
    """One canonical entity: its fields, which are required, and its id."""

    name: str
    fields: dict[str, FieldKind]
    required: tuple[str, ...]
    #: Fields of which at least one must be present on every row (stage_history, activities).
    one_of: tuple[str, ...] = ()
    #: The field that is unique within the entity across all sources (None: no single id).
    id_field: str | None = None

    @property
    def has_stage(self) -> bool:
        return "stage" in self.fields


LEADS = Entity(
    name="leads",
    fields={
        "lead_id": "id",
        "created_at": "timestamp",
        "email": "email",
        "phone": "phone",
        "company": "text",
        "source": "text",
        "owner": "text",
        "stage": "stage",
        "budget": "money",
        "authority": "text",
        "need": "text",
        "timeline": "date",
        "converted_at": "timestamp",
        "updated_at": "timestamp",
    },
    required=("lead_id", "created_at"),
    id_field="lead_id",
)

OPPORTUNITIES = Entity(
    name="opportunities",
    fields={
        "opportunity_id": "id",
        "stage": "stage",
        "lead_id": "id",
        "account": "text",
        "owner": "text",
        "amount": "money",
        "currency": "text",
        "created_at": "timestamp",
        "expected_close_date": "date",
        "closed_at": "timestamp",
        "probability": "number",
        "lost_reason": "text",
        "pipeline": "text",
        "updated_at": "timestamp",
    },
    required=("opportunity_id", "stage"),
    id_field="opportunity_id",
)

STAGE_HISTORY = Entity(
    name="stage_history",
    fields={
        "opportunity_id": "id",
        "lead_id": "id",
        "stage": "stage",
        "entered_at": "timestamp",
        "amount": "money",
    },
    required=("stage", "entered_at"),
    one_of=("opportunity_id", "lead_id"),
)

ACTIVITIES = Entity(
    name="activities",
    fields={
        "activity_id": "id",
        "occurred_at": "timestamp",
        "opportunity_id": "id",
        "lead_id": "id",
        "type": "text",
        "owner": "text",
    },
    required=("activity_id", "occurred_at"),
    one_of=("opportunity_id", "lead_id"),
    id_field="activity_id",
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (LEADS, OPPORTUNITIES, STAGE_HISTORY, ACTIVITIES)}

#: Columns every raw table carries besides the canonical fields (lineage).
LINEAGE_COLUMNS: dict[str, str] = {
    "stage_label": "VARCHAR",  # the stage as the source spelled it (entities with a stage)
    "source_system": "VARCHAR",  # the [[sources]] name
    "source_file": "VARCHAR",  # the file (or API endpoint) the row came from
    "source_line": "BIGINT",  # 1-based line in that file (header is line 1)
    "run_id": "VARCHAR",  # the run that loaded the row
}

#: Raw-table column of file sources: the hash of the row's text (funnel.incremental). Added by
#: the state file (not a lineage column: the published tables do not carry it).
ROW_HASH_COLUMN = "source_row_hash"


def raw_table_name(entity: str) -> str:
    """The state-file table that holds the cleaned, validated rows of an entity."""
    return f"raw_{entity}"


def raw_table_ddl(entity: Entity) -> str:
    """CREATE TABLE statement of an entity's raw table (canonical fields, then lineage)."""
    cols = [f"{name} {DUCKDB_TYPES[kind]}" for name, kind in entity.fields.items()]
    lineage = {k: v for k, v in LINEAGE_COLUMNS.items() if k != "stage_label" or entity.has_stage}
    cols += [f"{name} {typ}" for name, typ in lineage.items()]
    return (
        f"create table if not exists {raw_table_name(entity.name)} (\n    "
        + ",\n    ".join(cols)
        + "\n)"
    )
