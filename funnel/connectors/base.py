"""What every CRM connector provides: export presets per entity, and an API puller."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from funnel.connectors.http import ApiClient
from funnel.connectors.outcome import OutcomeSpec

ProbabilityScale = Literal["auto", 1, 100]


@dataclass(frozen=True)
class Preset:
    """How one CRM spells one entity, in its CSV exports and in its API records.

    `columns` gives every canonical field the column names the CRM uses for it, the export
    label first, then API field names; the first one present in the header is used.
    """

    columns: Mapping[str, tuple[str, ...]]
    stages: Mapping[str, str] = field(default_factory=dict)
    probability_scale: ProbabilityScale = "auto"
    #: The CRM's close date is the expected one while open and the actual one once closed
    #: (Salesforce, HubSpot): a won or lost record without `closed_at` takes it.
    closed_at_from_close_date: bool = False
    #: Text-level fix-ups before mapping (e.g. Pipedrive: the close time from won/lost times).
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    #: Where the CRM writes a deal's own won / lost / open outcome, which wins over the stage.
    outcome: OutcomeSpec | None = None
    #: Every export of the CRM has the outcome column (Pipedrive: a won deal keeps its open
    #: stage, so without its Status every deal looks open): a file without it is a finding.
    outcome_required: bool = False
    #: What the CRM puts before column names in some exports (Pipedrive: "Deal - "): a header
    #: with one of them matches a spelling without it.
    prefixes: tuple[str, ...] = ()
    #: The encoding of the CRM's export files that are not UTF-8, and what it is (the run log
    #: names it): e.g. Salesforce's Data Export writes Windows-1252 by default.
    encoding: tuple[str, str] | None = None
    #: A layout whose lines are not one record each (the ECB's rates: a column per currency):
    #: the file's rows as text, with `_file` and `_line`, to one row per record, before the rows
    #: are numbered and counted as read (a line may give several rows; they keep its `_line`).
    reshape: Callable[[pl.DataFrame], pl.DataFrame] | None = None


@dataclass(frozen=True)
class Pulled:
    """What one API pull returned, before it becomes an Extract."""

    #: The endpoint path the records came from (no host, no query, no token).
    endpoint: str
    records: list[dict[str, Any]]
    #: Field names asked for (columns of the frame even when no record came back).
    fields: tuple[str, ...]
    #: The new watermark (the API's own spelling of the latest change seen).
    watermark: str | None
    #: True when only records changed since the previous watermark were asked for.
    incremental: bool


#: An API puller: (client, entity, previous watermark or None for a full pull) -> Pulled.
Puller = Callable[[ApiClient, str, str | None], Pulled]


@dataclass(frozen=True)
class Connector:
    """One `format`: the presets it brings and, for an API format, how to pull."""

    format: str
    presets: Mapping[str, Preset]
    pull: Puller | None = None
    default_base_url: str | None = None
    auth_headers: Callable[[str], dict[str, str]] | None = None

    @property
    def is_api(self) -> bool:
        return self.pull is not None

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(self.presets)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_text(value: Any) -> str | None:
    """An API value as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted names: {"Owner": {"Name": "x"}} -> {"Owner.Name": "x"}."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes" and isinstance(value, Mapping):  # Salesforce type/url metadata
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def text_frame(records: Iterable[Mapping[str, Any]], fields: Iterable[str]) -> pl.DataFrame:
    """Records as a frame of text columns: the asked-for fields first, then any others."""
    rows = [flatten(r) for r in records]
    names = list(dict.fromkeys([*fields, *(k for r in rows for k in r)]))
    return pl.DataFrame(
        {n: [as_text(r.get(n)) for r in rows] for n in names},
        schema=dict.fromkeys(names, pl.String),
    )


def latest(values: Iterable[str | None], current: str | None) -> str | None:
    """The largest of the values and the current watermark (same-format ISO text sorts)."""
    seen = [v for v in values if v]
    if current:
        seen.append(current)
    return max(seen) if seen else None
