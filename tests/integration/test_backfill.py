"""Backfill: a range of past days in order, safe to interrupt and resume, same as nightly runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flows.nightly import nightly
from tests.conftest import REPO
from tests.integration.ops_helpers import DAYS, RUN_COLUMNS, comparable, query, write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


def _backfill(config: Path, *args: str) -> subprocess.Popen[str]:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "funnel", "backfill", "--config", str(config), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _tables(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows of the published runs, without run ids and wall-clock times; doubles
    to 12 significant digits (`comparable`)."""
    out = {}
    names = [r[0] for r in query(warehouse, "select table_name from duckdb_tables()")]
    for name in names:
        cols = [r[0] for r in query(warehouse, f"describe {name}")]
        keep = ", ".join(f'"{c}"' for c in cols if c not in RUN_COLUMNS)
        where = (
            "where run_id in (select run_id from pipeline_runs where status = 'published')"
            if "run_id" in cols and name != "pipeline_runs"
            else "where status = 'published'"
            if name == "pipeline_runs"
            else ""
        )
        out[name] = comparable(query(warehouse, f"select {keep} from {name} {where}"))
    return out


def test_backfill_interrupted_and_resumed_equals_three_nightly_runs(tmp_path: Path) -> None:
    # three nightly runs; then the same project from scratch (same paths) for the backfill
    project = tmp_path / "project"
    config = write_project(project)
    for day in DAYS:
        assert nightly(config_path=str(config), as_of=day).status == "published"
    nightly_warehouse = tmp_path / "nightly.duckdb"
    shutil.move(project / "warehouse" / "funnel.duckdb", nightly_warehouse)
    shutil.rmtree(project)
    config = write_project(project)

    start, end = str(DAYS[0]), str(DAYS[-1])
    first = _backfill(config, "--start", start, "--end", end)
    assert first.stdout is not None
    line = first.stdout.readline()
    assert line.startswith(f"{DAYS[0]} published by run "), line
    first.send_signal(signal.SIGINT)  # Ctrl-C while the next day is running
    out, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    assert "run the same command again to resume" in err, err[-3000:]

    second = _backfill(config, "--start", start, "--end", end)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{DAYS[0]} already published by run ")
    assert lines[-1].startswith(f"backfill {start}..{end} complete")
    state = project / "warehouse" / "funnel.state.duckdb"
    published = query(
        state, "select as_of from log_pipeline_runs where status = 'published' order by started_at"
    )
    assert [d for (d,) in published] == list(DAYS)  # each day once, in order
    interrupted = query(
        state, "select status, exit_code from log_pipeline_runs where status != 'published'"
    )
    assert interrupted in ([], [("interrupted", 130)])

    # the same tables as three nightly runs
    mine = _tables(project / "warehouse" / "funnel.duckdb")
    theirs = _tables(nightly_warehouse)
    assert mine.keys() == theirs.keys()
    for name in theirs:
        assert mine[name] == theirs[name], name

    # run again: nothing to do
    third = _backfill(config, "--start", start, "--end", end)
    out, _ = third.communicate(timeout=120)
    assert third.returncode == 0
    assert f"backfill {start}..{end} complete: 0 run, 3 skipped" in out


def test_a_past_day_defers_rows_born_after_it(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    summary = nightly(config_path=str(config), as_of=DAYS[0])
    state = tmp_path / "warehouse" / "funnel.state.duckdb"
    # L-10 and L-11 were created on the 30th and 31st: out of scope on the 29th, set aside
    # without blocking
    rows = query(
        state,
        "select source, source_line, reasons, checks from log_dq_quarantine order by all",
    )
    assert rows == [
        (
            "crm_deals",
            10,
            "created_at 2026-10-30 11:00:00 is after the as-of day 2026-10-29",
            ["created_at_not_after_as_of"],
        ),
        (
            "crm_leads",
            11,
            "created_at 2026-10-30 10:30:00 is after the as-of day 2026-10-29",
            ["created_at_not_after_as_of"],
        ),
        (
            "crm_leads",
            12,
            "created_at 2026-10-31 11:30:00 is after the as-of day 2026-10-29",
            ["created_at_not_after_as_of"],
        ),
    ]
    assert {
        (s.source, s.rows_read, s.rows_loaded, s.rows_quarantined) for s in summary.sources
    } == {
        ("crm_deals", 10, 9, 1),
        ("crm_leads", 11, 9, 2),
    }
    assert query(
        state,
        'select source, "check", severity, rows_failed from log_dq_results'
        " where severity = 'deferred' and rows_failed > 0 order by all",
    ) == [
        ("crm_deals", "closed_at_not_after_as_of", "deferred", 1),
        ("crm_deals", "created_at_not_after_as_of", "deferred", 1),
        ("crm_leads", "created_at_not_after_as_of", "deferred", 2),
    ]
    # D-05 (created on the 6th, won on the 30th) is loaded; its close had not happened yet
    assert query(
        state, "select stage, closed_at from raw_opportunities where opportunity_id = 'D-05'"
    ) == [("won", None)]
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    assert query(wh, "select max(day) from funnel_daily") == [(DAYS[0],)]
    assert query(wh, "select count(*) from leads") == [(9,)]
