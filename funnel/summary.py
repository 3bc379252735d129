"""What a run did, in numbers: per-source rows and the as-of day's headline metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from funnel.config import FunnelConfig
from funnel.quality.validate import EntityOutcome


@dataclass(frozen=True)
class SourceCounts:
    source: str
    entity: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_warned: int

    @staticmethod
    def from_log(con: duckdb.DuckDBPyConnection, run_id: str) -> list[SourceCounts]:
        rows = con.execute(
            "select source, entity, rows_read, rows_loaded, rows_quarantined, rows_warned"
            " from log_run_sources where run_id = ? order by source",
            [run_id],
        ).fetchall()
        return [SourceCounts(*r) for r in rows]


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    as_of: date
    status: str
    sources: list[SourceCounts]
    headline: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    @staticmethod
    def of(
        run_id: str,
        as_of: date,
        status: str,
        outcomes: Sequence[EntityOutcome],
        headline: list[dict[str, Any]],
    ) -> RunSummary:
        counts = [
            SourceCounts(
                s.source, s.entity, s.rows_read, s.loaded.height, s.rows_quarantined, s.rows_warned
            )
            for o in outcomes
            for s in o.sources
        ]
        return RunSummary(run_id, as_of, status, counts, headline)

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sources)

    @property
    def rows_quarantined(self) -> int:
        return sum(s.rows_quarantined for s in self.sources)

    @property
    def warned_share(self) -> float:
        return sum(s.rows_warned for s in self.sources) / self.rows_read if self.rows_read else 0.0


def alert_text(summary: RunSummary, config: FunnelConfig) -> str:
    """A Slack message: what failed, how many rows, and how to look at them."""
    lines = [
        f"funnel run {summary.run_id} (as of {summary.as_of}): {summary.status}",
    ]
    if summary.message:
        lines.append(summary.message)
    for s in summary.sources:
        lines.append(
            f"- {s.source} ({s.entity}): read {s.rows_read}, loaded {s.rows_loaded}, "
            f"quarantined {s.rows_quarantined}, warned {s.rows_warned}"
        )
    lines.append(
        f'Quarantined rows: duckdb {config.state_path} -c "select source, source_line, reasons '
        f"from log_dq_quarantine where run_id = '{summary.run_id}'\""
    )
    return "\n".join(lines)
