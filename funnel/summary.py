"""What a run did, in numbers: per-source rows and the as-of day's headline metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import polars as pl

from funnel.commands import installed, shell_command
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
    #: File sources: the encoding their files were read in (funnel.encodings).
    encoding: str | None = None

    @staticmethod
    def from_log(con: duckdb.DuckDBPyConnection, run_id: str) -> list[SourceCounts]:
        rows = con.execute(
            "select source, entity, rows_read, rows_loaded, rows_quarantined, rows_warned,"
            " encoding from log_run_sources where run_id = ? order by source",
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
    #: Failed source-level findings, "source: check (severity): details" (e.g. an outcome
    #: column that says no won or lost deal: funnel.quality.outcomes).
    findings: list[str] = field(default_factory=list)
    #: One line per stale source (funnel.freshness), naming it and its newest record.
    stale: tuple[str, ...] = ()

    @staticmethod
    def of(
        run_id: str,
        as_of: date,
        status: str,
        outcomes: Sequence[EntityOutcome],
        headline: list[dict[str, Any]],
        stale: Sequence[str] = (),
    ) -> RunSummary:
        counts = [
            SourceCounts(
                s.source,
                s.entity,
                s.rows_read,
                s.rows_loaded,
                s.rows_quarantined,
                s.rows_warned,
                s.encoding,
            )
            for o in outcomes
            for s in o.sources
        ]
        findings = [
            f"{r['source']}: {r['check']} ({r['severity']}): {r['details']}"
            for o in outcomes
            # freshness and row_volume say it in their own lines (stale; the gate's message)
            for r in o.results.filter(
                ~pl.col("passed")
                & pl.col("details").is_not_null()
                & ~pl.col("check").is_in(["freshness", "row_volume"])
            ).iter_rows(named=True)
        ]
        return RunSummary(
            run_id, as_of, status, counts, headline, findings=findings, stale=tuple(stale)
        )

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sources)

    @property
    def rows_quarantined(self) -> int:
        return sum(s.rows_quarantined for s in self.sources)

    @property
    def warned_share(self) -> float:
        return sum(s.rows_warned for s in self.sources) / self.rows_read if self.rows_read else 0.0


#: (source, check, severity, rows_failed, rows_checked), as state.failed_checks returns them.
FailedCheck = tuple[str, str, str, int, int]

HEADLINES = {
    "failed_dq": "blocking data-quality gate failed, nothing published",
    "failed": "run failed, nothing published",
    "published": "published with warnings above alerts.warn_share",
}


def quarantine_query(summary: RunSummary, config: FunnelConfig) -> str:
    """A ready-to-paste shell command listing the run's quarantined rows (`funnel sql`).

    A published run's rows are in the warehouse's dq_quarantine; a failed run published
    nothing, so its rows are only in the state file's log_dq_quarantine (`--state`).
    """
    published = summary.status == "published"
    table = "dq_quarantine" if published else "log_dq_quarantine"
    sql = (
        f"select source, source_file, source_line, reasons, original_row from {table}"
        f" where run_id = '{summary.run_id}' order by source, source_file, source_line"
    )
    return shell_command(
        installed("funnel"), "sql", "--config", str(config.config_path.resolve()),
        *([] if published else ["--state"]), sql,
    )  # fmt: skip


def alert_text(
    summary: RunSummary, config: FunnelConfig, failed: Sequence[FailedCheck] = ()
) -> str:
    """A Slack message: which sources and checks failed, how many rows, how to query them."""
    headline = HEADLINES.get(summary.status, summary.status)
    if summary.status == "published" and summary.warned_share <= config.alerts.warn_share:
        headline = "published"  # the alert is for stale sources alone
    if summary.stale:
        n = len(summary.stale)
        headline += f"; {n} stale source{'s' if n > 1 else ''}"
    lines = [f"*funnel {summary.status}*: {headline} (as of {summary.as_of})"]
    lines.append(f"run id: `{summary.run_id}`")
    if summary.status == "published":
        lines.append(
            f"{summary.warned_share:.1%} of {summary.rows_read:,} rows warned"
            f" (alerts.warn_share {config.alerts.warn_share:.1%})"
        )
    if summary.message:
        lines.append(summary.message)
    if summary.stale:
        lines.append("stale sources (no recent records; figures of recent days may be missing):")
        lines += [f"• {line}" for line in summary.stale]
    if failed:
        lines.append("failed checks:")
        for source in dict.fromkeys(f[0] for f in failed):
            parts = [
                f"{check} ({severity}) {bad:,} of {checked:,} rows"
                for src, check, severity, bad, checked in failed
                if src == source
            ]
            lines.append(f"• {source}: " + "; ".join(parts))
    if summary.findings:
        lines.append("findings:")
        lines += [f"• {finding}" for finding in summary.findings]
    if summary.sources:
        lines.append("rows per source:")
        for s in summary.sources:
            lines.append(
                f"• {s.source} ({s.entity}): read {s.rows_read:,}, loaded {s.rows_loaded:,}, "
                f"quarantined {s.rows_quarantined:,}, warned {s.rows_warned:,}"
            )
    lines.append(f"quarantined rows ({summary.rows_quarantined:,}):")
    lines.append(f"```{quarantine_query(summary, config)}```")
    return "\n".join(lines)
