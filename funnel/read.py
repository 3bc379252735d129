"""How a source is read tonight, and which of its rows are cleaned.

A source is read one of three ways: files in full (an incremental run of a file source compares
them with the last load: funnel.incremental), files of changes (`changes_only`: merged as an API
pull of changes is) or an API pull. An entity's incremental run then cleans only the rows of the
records that changed; the rest stay loaded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import polars as pl

from funnel import incremental, state
from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors.registry import is_api
from funnel.extract import extract_api, extract_files
from funnel.hygiene import CleanSource, clean_source
from funnel.incremental import Mode, SourceRead, StoredRowChanges
from funnel.quality.rates import Rates
from transforms.schema import ENTITIES


def sources_by_entity(sources: list[SourceConfig]) -> list[list[SourceConfig]]:
    """The sources grouped by entity: reference data first (other entities' checks read it),
    then in the order the config names them."""
    groups: dict[str, list[SourceConfig]] = defaultdict(list)
    for s in sources:
        groups[s.entity].append(s)
    return sorted(groups.values(), key=lambda g: not ENTITIES[g[0].entity].reference)


def read_source(
    config: FunnelConfig, source: SourceConfig, rates: Rates | None = None
) -> SourceRead:
    """Read every row of one source (files, or an API pull), keeping rows the reader rejects.

    A file source's rows get their hash and record key, and the state's record of its last
    load is looked up (funnel.incremental; `rates`: what its checks read of the exchange rates,
    part of its fingerprint). A `changes_only` source's files, after its first load, replace
    the rows of their records only, as an API pull of changes does."""
    if source.changes_only:  # files of changes: merged as an API pull is, nothing carried
        rows = extract_files(config, source)
        with state.open_state(config.state_path) as con:
            merge = state.has_rows(con, source.name, source.entity)
        return SourceRead(replace(rows, incremental=merge))
    if not is_api(source.format):
        rows = extract_files(config, source, incremental.row_keys(source))
        with state.open_state(config.state_path) as con:
            digest = rates.digest() if rates is not None else None
            return incremental.compare_to_last_load(con, config, source, rows, digest)
    watermark = None
    if source.incremental:
        with state.open_state(config.state_path) as con:
            watermark = state.get_watermark(con, source.name, source.entity, source.format)
    return SourceRead(extract_api(source, watermark))


@dataclass(frozen=True)
class SourceLoad:
    """One source's cleaned rows, and for a file source what loading them does to its stored
    rows (`changes`) and the fingerprint stored with them."""

    cleaned: CleanSource
    changes: StoredRowChanges | None = None
    fingerprint: str | None = None

    @property
    def name(self) -> str:
        return self.cleaned.source.name

    @property
    def mode(self) -> Mode:
        """How the source ran tonight (a pull of changes is incremental too)."""
        if self.changes is not None:
            return self.changes.mode
        return "incremental" if self.cleaned.extract.incremental else "full"

    @property
    def carries(self) -> bool:
        """Whether some of its stored rows stay loaded, as they were (an incremental file run)."""
        return self.changes is not None and self.changes.mode == "incremental"


def clean_read(
    config: FunnelConfig,
    source: SourceConfig,
    read: SourceRead,
    affected: pl.Series | None = None,
) -> SourceLoad:
    """Map, clean and deduplicate one source; with `affected` (an incremental run) only its
    rows of those records and its new or changed rows."""
    if read.fingerprint is None:  # an API source, or files of changes
        return SourceLoad(clean_source(config, source, read.extract))
    scale, formats = read.probability_scale, read.number_formats  # decided over every row
    if affected is None or read.prior is None:
        cleaned = clean_source(config, source, read.extract, scale, formats)
        return SourceLoad(cleaned, incremental.all_replaced(), read.fingerprint)
    narrowed, changes = incremental.narrow(read.extract, read.prior.rows, affected)
    cleaned = clean_source(config, source, narrowed, scale, formats)
    return SourceLoad(cleaned, changes, read.fingerprint)
