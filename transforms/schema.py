"""The canonical entities, their fields and types, and the canonical stages (CONTRACT.md).

Adding an entity: define it here and list it in ENTITIES (a source's `entity`, its raw table in
the state file and the view the models read follow from that), give its fields' checks in
`funnel.quality.checks` if the generic ones are not enough, and write its staging model
`sql/staging/stg_<entity>.sql` (`select ... from raw_<entity>`) and the models that read it.
A preset for it is a `Preset` under the entity's name in a connector (`funnel.connectors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal[
    "id", "text", "email", "phone", "currency", "money", "number", "timestamp", "date", "stage"
]

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
    "currency": "VARCHAR",
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
    #: The timestamp or date that says when a row came into being: a row born after the as-of
    #: day did not exist yet (checked, and set aside on a past day; funnel.quality.checks).
    born: str | None = None
    #: Fields unique together across all sources, for an entity without one id field
    #: (exchange_rates: one rate per currency and day).
    unique_key: tuple[str, ...] = ()
    #: Number fields that must be above zero.
    positive: tuple[str, ...] = ()
    #: Reference data that checks of other entities read (exchange_rates: an opportunity's
    #: amount needs a rate): its sources are read and checked first, and in full on every run.
    reference: bool = False
    #: Text fields whose value must be one of a few (targets: period_kind), any case.
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def has_stage(self) -> bool:
        return "stage" in self.fields

    @property
    def record_key(self) -> tuple[str, ...]:
        """The fields that name the record a row belongs to: its id, else its unique key, else
        the first given of `one_of` (stage history: the opportunity, else the lead)."""
        if self.id_field:
            return (self.id_field,)
        return self.unique_key or self.one_of


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
    born="created_at",
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
        "currency": "currency",
        "created_at": "timestamp",
        "expected_close_date": "date",
        "closed_at": "timestamp",
        "probability": "number",
        "lost_reason": "text",
        "pipeline": "text",
        "updated_at": "timestamp",
        "forecast_category": "text",
    },
    required=("opportunity_id", "stage"),
    id_field="opportunity_id",
    born="created_at",
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
    born="entered_at",
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
    born="occurred_at",
)

EXCHANGE_RATES = Entity(
    name="exchange_rates",
    fields={
        "currency": "currency",
        "rate_date": "date",
        # units of rate_currency one unit of currency buys on rate_date
        "rate": "number",
        # the currency rate is quoted in; blank: the reporting currency ([currency] reporting)
        "rate_currency": "currency",
    },
    required=("currency", "rate_date", "rate"),
    born="rate_date",
    unique_key=("currency", "rate_date"),
    positive=("rate",),
    reference=True,
)

#: The period kinds of targets (and of the period tables).
PERIOD_KINDS: tuple[str, ...] = ("month", "quarter", "year")

TARGETS = Entity(
    name="targets",
    fields={
        # any day of the fiscal period (of period_kind) the target is for; its first day by
        # convention
        "period_start": "date",
        "period_kind": "text",
        # both blank: the whole company's target; team only: the team's; owner: the owner's
        "owner": "text",
        "team": "text",
        "amount": "money",
        # the currency of amount; blank: the reporting currency, else [currency] default
        "currency": "currency",
    },
    required=("period_start", "period_kind", "amount"),
    unique_key=("period_kind", "period_start", "owner", "team"),
    choices=(("period_kind", PERIOD_KINDS),),
    reference=True,
)

OWNERS = Entity(
    name="owners",
    fields={
        "owner": "id",
        "team": "text",
        "manager": "text",
    },
    required=("owner",),
    id_field="owner",
    reference=True,
)

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (LEADS, OPPORTUNITIES, STAGE_HISTORY, ACTIVITIES, EXCHANGE_RATES, TARGETS, OWNERS)
}

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
