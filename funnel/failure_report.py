"""The one block a failed run ends with on stderr: what failed, where (source, file and line,
or config key), the top reasons with counts and examples, and the command that lists the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from funnel.commands import installed, shell_command
from funnel.errors import ConfigError, DataQualityError
from funnel.reasons import ReasonGroup, reason_groups

#: Kinds of reason shown; the command lists every row.
TOP_REASONS = 6
#: Blocking causes shown (a run stops for one or two; a broken config can give many).
TOP_STOPS = 6
UNCHANGED = "nothing was published; the published warehouse is unchanged."


@dataclass(frozen=True)
class FailedRun:
    """What the CLI knows of the run that failed."""

    config_path: Path
    run_id: str
    as_of: date
    state_path: Path


def check_command(config_path: Path) -> str:
    """The pasteable `funnel check` of a config."""
    return shell_command(installed("funnel"), "check", "--config", str(config_path.resolve()))


def config_error_lines(error: ConfigError, config_path: Path | None) -> list[str]:
    """A wrong config (exit 2): each problem (file, key or column), and the check to rerun."""
    problems = [p for p in str(error).splitlines() if p.strip()]
    lines = [f"config error: {p}" for p in problems[:TOP_STOPS]]
    if len(problems) > TOP_STOPS:
        lines.append(f"  ... and {len(problems) - TOP_STOPS} more problems")
    lines.append("nothing was run; the published warehouse is unchanged.")
    if config_path is not None and config_path.is_file():
        lines += ["check the config and every export without a run:"]
        lines += [f"  {check_command(config_path)}"]
    return lines


def stops_of(error: DataQualityError) -> list[str]:
    """Why the gate stopped the run, one line per cause (the error's lines after the first)."""
    lines = [line.strip() for line in str(error).splitlines()]
    return [line for line in lines[1:] if line] or [lines[0] if lines else "(no reason given)"]


def quarantined_reasons(state_path: Path, run_id: str) -> list[ReasonGroup]:
    """The run's quarantined rows (the state file's log), grouped by kind of reason."""
    if not state_path.is_file():
        return []
    con = duckdb.connect(str(state_path), read_only=True)
    try:
        rows = con.sql(
            "select source, source_file, source_line, reasons from log_dq_quarantine"
            " where run_id = $run_id",
            params={"run_id": run_id},
        ).pl()
    finally:
        con.close()
    return reason_groups(rows) if rows.height else []


def data_quality_lines(
    error: DataQualityError, run: FailedRun, groups: Sequence[ReasonGroup]
) -> list[str]:
    """A blocking data-quality failure (exit 3): the causes, the top reasons of the sources
    that blocked (then others'), and the command listing every quarantined row."""
    from funnel.summary import RunSummary, quarantine_query

    stops = stops_of(error)
    lines = [f"data-quality gate failed (run {run.run_id}, as of {run.as_of}):"]
    lines += [f"  {s}" for s in stops[:TOP_STOPS]]
    if len(stops) > TOP_STOPS:
        lines.append(f"  ... and {len(stops) - TOP_STOPS} more")
    blocking = {s.split(":", 1)[0] for s in stops}
    # the sources that blocked the run, when the reasons are theirs (else every source's)
    ordered = [g for g in groups if g.source in blocking] or list(groups)
    # superseded duplicates are set aside, never counted against max_error_share: last
    ordered.sort(key=lambda g: ("superseded" in g.kind, -g.rows))
    if ordered:
        lines.append("top reasons (rows, source: reason, examples at file:line):")
        base = run.config_path.resolve().parent
        lines += [f"  {g.describe(base)}" for g in ordered[:TOP_REASONS]]
        if len(ordered) > TOP_REASONS:
            rest = sum(g.rows for g in ordered[TOP_REASONS:])
            more = len(ordered) - TOP_REASONS
            lines.append(
                f"  ... and {more} more kind{'s' if more > 1 else ''} of reason ({rest:,} rows)"
            )
    lines.append(UNCHANGED)
    summary = RunSummary(run.run_id, run.as_of, "failed_dq", [])
    from funnel.config import load_config

    try:
        config = load_config(run.config_path)
    except ConfigError:
        return lines
    lines += ["every quarantined row of this run:", f"  {quarantine_query(summary, config)}"]
    return lines


def failure_lines(
    error: BaseException, run: FailedRun | None, config_path: Path | None = None
) -> list[str] | None:
    """The block for an expected failure (a config or data-quality error), else None."""
    if isinstance(error, ConfigError):
        return config_error_lines(error, run.config_path if run else config_path)
    if not isinstance(error, DataQualityError):
        return None
    if run is None:
        return ["data-quality gate failed:", *(f"  {s}" for s in stops_of(error)), UNCHANGED]
    try:
        groups = quarantined_reasons(run.state_path, run.run_id)
    except Exception:  # the log is busy or unreadable: the causes alone still help
        groups = []
    return data_quality_lines(error, run, groups)
