"""What a run leaves in Prefect's UI: a markdown summary and the table of its failed checks.

Plain text and rows here; the nightly flow hands them to Prefect as artifacts, so a run's page
says what it read, loaded and quarantined, its headline figures and its stale sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from funnel import state
from funnel.config import FunnelConfig
from funnel.summary import FailedCheck, RunSummary

#: Artifact keys (lowercase letters, digits and dashes): each run adds a version under them.
SUMMARY_KEY = "funnel-run-summary"
FAILED_CHECKS_KEY = "funnel-failed-checks"

#: The headline columns shown, with their headers (funnel.warehouse.HEADLINE_SQL).
HEADLINE_COLUMNS = {
    "trailing_window": "window",
    "currency": "currency",
    "won": "won",
    "lost": "lost",
    "win_rate": "win rate",
    "avg_deal_size": "avg deal size",
    "median_cycle_days": "median cycle (days)",
    "open_count": "open",
    "weighted_pipeline": "weighted pipeline",
    "sales_velocity": "sales velocity",
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def summary_markdown(summary: RunSummary, failed: Sequence[FailedCheck] = ()) -> str:
    """The run in markdown: status, rows per source, headline figures, stale sources and how
    many checks failed."""
    lines = [f"# funnel run {summary.run_id}: {summary.status}", "", f"As of {summary.as_of}."]
    if summary.message:
        lines += ["", "```", summary.message, "```"]
    lines += ["", "## Rows per source", ""]
    rows: list[list[Any]] = [
        [s.source, s.entity, s.rows_read, s.rows_loaded, s.rows_quarantined, s.rows_warned]
        for s in summary.sources
    ]
    loaded = sum(s.rows_loaded for s in summary.sources)
    warned = sum(s.rows_warned for s in summary.sources)
    rows.append(
        ["**all**", "", summary.rows_read, loaded, summary.rows_quarantined, warned]
    )  # fmt: skip
    headers = ["source", "entity", "read", "loaded", "quarantined", "warned"]
    lines += _table(headers, rows)
    lines += ["", "## Headline figures", ""]
    if summary.headline:
        shown = [c for c in HEADLINE_COLUMNS if any(c in m for m in summary.headline)]
        lines += _table(
            [HEADLINE_COLUMNS[c] for c in shown],
            [[m.get(c) for c in shown] for m in summary.headline],
        )
    else:
        lines.append("None: nothing was published.")
    lines += ["", "## Stale sources", ""]
    lines += [f"- {s}" for s in summary.stale] or ["None."]
    errors = sum(1 for f in failed if f[2] == "error")
    lines += [
        "",
        "## Failed checks",
        "",
        f"{len(failed)} failed ({errors} error, {len(failed) - errors} warn or info): see the"
        f" `{FAILED_CHECKS_KEY}` table artifact."
        if failed
        else "None.",
    ]
    return "\n".join(lines) + "\n"


def failed_checks(config: FunnelConfig, run_id: str) -> list[FailedCheck]:
    """The run's failed checks as the log holds them, errors first per source."""
    with state.open_state(config.state_path) as con:
        return state.failed_checks(con, run_id)


def failed_checks_table(failed: Sequence[FailedCheck]) -> list[dict[str, Any]]:
    """One row per failed check: source, check, severity, rows failed and checked."""
    return [
        {
            "source": source,
            "check": check,
            "severity": severity,
            "rows_failed": rows_failed,
            "rows_checked": rows_checked,
        }
        for source, check, severity, rows_failed, rows_checked in failed
    ]
