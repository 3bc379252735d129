"""The run lock (funnel.runlock) and what the next run makes of runs that stopped without
finishing (funnel.recovery), on real files."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from funnel import recovery, runlock, state
from funnel.config import FunnelConfig
from tests.conftest import REPO

DAY = date(2026, 10, 31)


def _config(tmp_path: Path) -> FunnelConfig:
    return FunnelConfig.model_validate(
        {
            "warehouse": {"path": str(tmp_path / "wh" / "funnel.duckdb")},
            "sources": [{"name": "x", "entity": "leads", "path": "x.csv"}],
            "base_dir": tmp_path,
        }
    )


def test_unfinished_runs_are_settled_and_their_build_files_removed(tmp_path: Path) -> None:
    config = _config(tmp_path)
    wh = config.warehouse_path
    wh.parent.mkdir(parents=True)
    statuses = {
        "r1": "published",
        "r2": "running",  # killed while extracting
        "r3": "loaded",  # killed while building
        "r4": "publishing",  # killed before the replace: its build file is still there
        "r5": "publishing",  # killed after the replace: its build file is the warehouse now
        "r6": "failed",
    }
    for run_id in ("r3", "r4", "zz"):
        wh.with_name(f".funnel.duckdb.build-{run_id}").write_text("build")
    wh.with_name(".funnel.duckdb.build-r3.wal").write_text("wal")
    wh.with_name(".report.html.build-r3").write_text("report")
    with state.open_state(config.state_path) as con:
        for run_id, status in statuses.items():
            state.start_run(con, run_id, DAY)
            if status == "failed":
                state.finish_run(con, run_id, status, 1, "boom")
            elif status != "running":
                state.mark_status(con, run_id, status)
        state.start_run(con, "now", DAY)
        abandoned = recovery.settle(con, config, "now")
        rows = con.execute(
            "select run_id, status, exit_code, message from log_pipeline_runs order by run_id"
        ).fetchall()
    assert abandoned == ["r2", "r3", "r4"]
    message = (
        "abandoned: the run stopped while {} (its process ended without finishing;"
        " found by run now)"
    )
    assert rows == [
        ("now", "running", None, None),
        ("r1", "published", 0, None),
        ("r2", "abandoned", None, message.format("running")),
        ("r3", "abandoned", None, message.format("loaded")),
        ("r4", "abandoned", None, message.format("publishing")),
        ("r5", "published", 0, None),
        ("r6", "failed", 1, "boom"),
    ]
    assert sorted(p.name for p in wh.parent.iterdir()) == ["funnel.state.duckdb"]


def test_the_lock_is_reentrant_in_a_process_and_exclusive_across_processes(
    tmp_path: Path,
) -> None:
    state_path = tmp_path / "st" / "funnel.state.duckdb"
    probe = (
        "import sys; from pathlib import Path; from funnel import runlock\n"
        "try:\n"
        "    runlock.take(Path(sys.argv[1]), 'other', 'funnel run').release(); print('took')\n"
        "except runlock.RunLocked as e:\n"
        "    print(e.exit_code, e)\n"
    )

    def other_process() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(state_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )
        return done.stdout.strip()

    outer = runlock.take(state_path, "(backfill)", "funnel backfill")
    inner = runlock.take(state_path, "20261031-020000-abcdef", "funnel run")
    assert other_process().startswith(
        "1 another funnel run holds this warehouse: run 20261031-020000-abcdef (funnel run, pid"
    )
    inner.release()
    assert "run (backfill) (funnel backfill, pid" in other_process()
    outer.release()
    assert other_process() == "took"
    assert runlock.lock_path(state_path).read_text() == ""  # no holder named once free
