"""A source's mapping: its connector's preset for the entity, under the source's own keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from funnel.connectors.base import Preset, ProbabilityScale
from funnel.connectors.columns import find_column
from funnel.connectors.outcome import Outcome, OutcomeColumns, resolve, spellings
from funnel.connectors.registry import FORMATS

if TYPE_CHECKING:
    from funnel.config import SourceConfig


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
