"""Runs that stopped without finishing (killed, machine down), found by the next run.

Called with the run lock held (funnel.runlock), so no other run is alive: a run the log still
shows as running, loaded or publishing has stopped. One caught publishing whose build file is
gone had replaced the warehouse (the move is one step) and is published; every other one is
marked `abandoned`, and its build files are removed.
"""

from __future__ import annotations

import duckdb

from funnel import state, warehouse
from funnel.config import FunnelConfig
from funnel.report import files

#: Statuses of a run still under way; found by another run, it was stopped.
UNFINISHED = ("running", "loaded", "publishing")


def settle(con: duckdb.DuckDBPyConnection, config: FunnelConfig, run_id: str) -> list[str]:
    """Mark the unfinished runs of the log published or abandoned; remove every stale build
    file of the warehouse. Returns the run ids marked abandoned."""
    rows = con.execute(
        "select run_id, status from log_pipeline_runs"
        " where list_contains(?, status) and run_id <> ? order by started_at",
        [list(UNFINISHED), run_id],
    ).fetchall()
    abandoned = []
    for stopped, status in rows:
        built = warehouse.build_path(config, stopped)
        if status == "publishing" and not built.exists():
            state.mark_status(con, stopped, "published")
            continue
        state.finish_run(
            con,
            stopped,
            "abandoned",
            None,
            f"abandoned: the run stopped while {status} (its process ended without finishing;"
            f" found by run {run_id})",
        )
        files.discard_report(config.report_path, stopped)
        abandoned.append(stopped)
    warehouse.remove_stale_builds(config, keep=run_id)
    return abandoned
