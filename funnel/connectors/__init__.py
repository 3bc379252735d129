"""CRM connectors: the registry of `format` names, preset merging, and API extraction.

A file format with a preset (`salesforce`, `hubspot`, `pipedrive`) reads CSV like `csv` and
brings the CRM's column names, stage labels and probability scale (`ecb`: the European Central
Bank's reference rates, reshaped into one row per day and currency); an API format
(`salesforce_api`, `hubspot_api`, `pipedrive_api`) pulls over HTTP and brings the same preset.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from funnel.connectors import ecb, hubspot, pipedrive, salesforce
from funnel.connectors.base import Connector, Preset, ProbabilityScale, text_frame
from funnel.connectors.columns import find_column
from funnel.connectors.http import ApiClient, ConnectorAuthError, ConnectorError
from funnel.connectors.outcome import Outcome, OutcomeColumns, resolve, spellings
from funnel.errors import ConfigError

if TYPE_CHECKING:
    from funnel.config import SourceConfig
    from funnel.extract import Extract

__all__ = [
    "FORMATS",
    "ConnectorAuthError",
    "ConnectorError",
    "EffectiveMapping",
    "effective_mapping",
    "export_encoding",
    "extract_api",
    "find_column",
    "is_api",
]

_CSV = Connector(format="csv", presets={})

#: Every `format` a source may name.
FORMATS: dict[str, Connector] = {
    c.format: c
    for c in (
        _CSV,
        salesforce.EXPORT,
        salesforce.API,
        hubspot.EXPORT,
        hubspot.API,
        pipedrive.EXPORT,
        pipedrive.API,
        ecb.EXPORT,
    )
}


def is_api(fmt: str) -> bool:
    """True for a format that pulls over HTTP instead of reading files."""
    connector = FORMATS.get(fmt)
    return connector is not None and connector.is_api


def check_source(fmt: str, entity: str) -> str | None:
    """Why a (format, entity) pair is not usable, or None when it is (for the config check)."""
    connector = FORMATS.get(fmt)
    if connector is None:
        return f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}"
    if connector.format != "csv" and entity not in connector.presets:
        return (
            f"format {fmt!r} does not provide {entity}; it provides: "
            f"{', '.join(connector.entities)}"
        )
    return None


@dataclass(frozen=True)
class EffectiveMapping:
    """A source's mapping after its preset: the user's keys win over the preset's."""

    columns: dict[str, str]
    stages: dict[str, str]
    probability_scale: ProbabilityScale
    closed_at_from_close_date: bool
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None
    #: The file's columns holding the CRM's own outcome (see funnel.connectors.outcome).
    outcome: OutcomeColumns | None = None
    #: The preset needs an outcome column the file lacks: the spellings it looked for.
    outcome_missing: tuple[str, ...] = ()


def merge_preset(
    preset: Preset | None,
    header: list[str],
    columns: Mapping[str, str],
    stages: Mapping[str, str],
    probability_scale: ProbabilityScale,
    outcomes: Mapping[str, Outcome] | None = None,
    outcome_column: str | None = None,
) -> EffectiveMapping:
    """Preset defaults under the user's `columns`, `stages`, `probability_scale`, `outcomes`
    (the outcome values the preset does not know) and `outcome_column` (the status column's
    name where the preset does not know it)."""
    if preset is None:
        return EffectiveMapping(dict(columns), dict(stages), probability_scale, False, None)
    merged_columns: dict[str, str] = {}
    for field_name, names in preset.columns.items():
        found = find_column(header, names, preset.prefixes)
        if found is not None:
            merged_columns[field_name] = found
    merged_columns.update(columns)
    merged_stages = {**preset.stages, **stages}
    scale = probability_scale if probability_scale != "auto" else preset.probability_scale
    outcome = resolve(
        preset.outcome,
        lambda names: find_column(header, names, preset.prefixes),
        outcomes,
        outcome_column,
    )
    missing: tuple[str, ...] = ()
    if outcome is None and preset.outcome is not None and preset.outcome_required:
        missing = (outcome_column,) if outcome_column else spellings(preset.outcome)
    return EffectiveMapping(
        merged_columns,
        merged_stages,
        scale,
        preset.closed_at_from_close_date,
        preset.prepare,
        outcome,
        missing,
    )


def reshape_of(source: SourceConfig) -> Callable[[pl.DataFrame], pl.DataFrame] | None:
    """The preset's reshape of a file source's rows (Preset.reshape), if it has one."""
    preset = FORMATS[source.format].presets.get(source.entity)
    return preset.reshape if preset is not None else None


def effective_mapping(source: SourceConfig, header: list[str]) -> EffectiveMapping:
    """The mapping a source's rows are read with: its preset (if any) under its own keys."""
    connector = FORMATS[source.format]
    preset = connector.presets.get(source.entity)
    return merge_preset(
        preset,
        header,
        source.columns,
        source.stages,
        source.probability_scale,
        source.outcomes,
        source.outcome_column,
    )


def export_encoding(fmt: str, entity: str) -> tuple[str, str] | None:
    """The encoding a format's export files of an entity are in when they are not UTF-8, and
    what it is (see funnel.encodings.detect); None: the general fallback."""
    connector = FORMATS.get(fmt)
    preset = connector.presets.get(entity) if connector else None
    return preset.encoding if preset else None


def api_token(source: SourceConfig) -> str:
    """The token from the environment variable the source names; ConfigError when unset."""
    assert source.token_env is not None
    token = os.environ.get(source.token_env, "")
    if not token:
        raise ConfigError(
            f"sources[{source.name}].token_env: environment variable ${source.token_env} "
            "is not set (it must hold the API token)"
        )
    return token


def extract_api(
    source: SourceConfig,
    watermark: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Extract:
    """Pull one API source into an Extract (a full pull when `watermark` is None)."""
    from funnel.extract import REJECT_SCHEMA, Extract

    connector = FORMATS[source.format]
    assert connector.pull is not None and connector.auth_headers is not None
    base_url = source.base_url or connector.default_base_url
    if not base_url:
        raise ConfigError(f"sources[{source.name}].base_url: required for {source.format}")
    with ApiClient(
        source=source.name,
        base_url=base_url,
        headers=connector.auth_headers(api_token(source)),
        token_env=source.token_env or "",
        timeout=source.timeout,
        retries=source.retries,
        backoff=source.backoff,
        sleep=sleep,
        max_pages=source.max_pages,
    ) as client:
        pulled = connector.pull(client, source.entity, watermark)
    rows = text_frame(pulled.records, pulled.fields)
    rows = rows.with_row_index("_rid").with_columns(
        pl.col("_rid").cast(pl.Int64),
        pl.lit(pulled.endpoint).alias("_file"),
        (pl.col("_rid").cast(pl.Int64) + 1).alias("_line"),
    )
    return Extract(
        source=source.name,
        rows=rows,
        rejects=pl.DataFrame(schema=REJECT_SCHEMA),
        files=(pulled.endpoint,),
        watermark=pulled.watermark,
        incremental=pulled.incremental,
    )
