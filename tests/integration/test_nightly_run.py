"""Whole nightly runs on the bundled sample export, against a real Prefect API and DuckDB files."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest
from prefect.events.clients import AssertingPassthroughEventsClient
from prefect.events.worker import EventsWorker
from prefect.testing.fixtures import asserting_and_emitting_events_worker  # noqa: F401

from flows.nightly import nightly
from funnel.errors import DataQualityError
from tests.conftest import CONTRACT_TABLES, REPO

pytestmark = pytest.mark.usefixtures("prefect_server")

AS_OF = date(2026, 10, 31)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_sample_run_publishes_every_contract_table(project: Path) -> None:
    summary = nightly(config_path=str(project / "funnel.toml"), as_of=AS_OF)
    wh = project / "data" / "warehouse" / "funnel.duckdb"
    assert summary.status == "published"
    for table in CONTRACT_TABLES:
        (count,) = _query(wh, f"select count(*) from {table}")[0]
        assert count > 0, table
    # every row read is loaded or quarantined, per source, and pipeline_runs says the same
    for s in summary.sources:
        assert s.rows_read == s.rows_loaded + s.rows_quarantined > 0
    ((read, loaded, quarantined),) = _query(
        wh, "select rows_read, rows_loaded, rows_quarantined from pipeline_runs"
    )
    assert (read, loaded, quarantined) == (
        summary.rows_read,
        summary.rows_read - summary.rows_quarantined,
        summary.rows_quarantined,
    )
    (q,) = _query(wh, "select count(*) from dq_quarantine")[0]
    assert q == summary.rows_quarantined > 0
    # no build file, staged report or WAL left beside the published files
    assert sorted(p.name for p in wh.parent.iterdir()) == [
        "funnel.duckdb",
        "funnel.state.duckdb",
        "funnel.state.duckdb.lock",  # the run lock (funnel.runlock), empty between runs
        "report.html",
    ]
    # the report beside it is this run's
    report = wh.with_name("report.html").read_text()
    assert "<title>Funnel report, as of 2026-10-31</title>" in report
    assert f"where run_id = &#39;{summary.run_id}&#39;" in report


def test_second_run_on_the_same_files_gives_the_same_numbers(project: Path) -> None:
    cfg = str(project / "funnel.toml")
    wh = project / "data" / "warehouse" / "funnel.duckdb"
    metrics = "select * exclude (day) from funnel_metrics_daily order by all"
    nightly(config_path=cfg, as_of=AS_OF)
    first = _query(wh, metrics), _query(wh, "select count(*) from opportunities")
    nightly(config_path=cfg, as_of=AS_OF)
    second = _query(wh, metrics), _query(wh, "select count(*) from opportunities")
    assert first == second
    assert _query(wh, "select count(*), count(distinct run_id) from pipeline_runs") == [(2, 2)]


def test_broken_rows_are_quarantined_with_file_line_and_reason(project: Path) -> None:
    leads = project / "data" / "sample" / "leads.csv"
    header = leads.read_text().splitlines()[0]
    width = header.count(",") + 1
    lines_before = len(leads.read_text().splitlines())
    with leads.open("a") as fh:
        fh.write("X-1" + "," * (width - 1) + "\n")  # blank Created Date
        fh.write("X-2,2026-01-01" + ",too many" * width + "\n")  # ragged row
    summary = nightly(config_path=str(project / "funnel.toml"), as_of=AS_OF)
    wh = project / "data" / "warehouse" / "funnel.duckdb"
    rows = dict(
        _query(
            wh,
            "select source_line, reasons from dq_quarantine"
            f" where source_file = '{leads}' and source_line > {lines_before}",
        )
    )
    assert rows[lines_before + 1].startswith("created_at is blank")
    assert "Expected Number of Columns" in rows[lines_before + 2]
    crm = next(s for s in summary.sources if s.entity == "leads")
    assert crm.rows_read == crm.rows_loaded + crm.rows_quarantined


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "funnel", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_blocking_failure_exits_3_and_leaves_the_published_file_unchanged(project: Path) -> None:
    nightly(config_path=str(project / "funnel.toml"), as_of=AS_OF)
    wh = project / "data" / "warehouse" / "funnel.duckdb"
    before, report_before = _sha(wh), _sha(wh.with_name("report.html"))
    # The opportunities export loses its Stage column: a required column is missing.
    opps = project / "data" / "sample" / "opportunities.csv"
    text = opps.read_text().replace("Stage", "Phase", 1)
    opps.write_text(text)
    cfg = (project / "funnel.toml").read_text()
    (project / "funnel.toml").write_text(cfg.replace('stage = "Stage"', "# stage unmapped"))
    with pytest.raises(DataQualityError, match="required column"):
        nightly(config_path=str(project / "funnel.toml"), as_of=AS_OF)
    result = _cli(project, "run", "--as-of", str(AS_OF))
    assert result.returncode == 3, result.stderr
    assert "required column(s) missing: stage" in result.stderr
    assert (_sha(wh), _sha(wh.with_name("report.html"))) == (before, report_before)
    statuses = _query(
        wh.with_name("funnel.state.duckdb"),
        "select status, exit_code from log_pipeline_runs order by started_at",
    )
    assert statuses == [("published", 0), ("failed_dq", 3), ("failed_dq", 3)]


def test_a_reader_holding_the_file_open_never_blocks_a_run(project: Path) -> None:
    cfg = str(project / "funnel.toml")
    nightly(config_path=cfg, as_of=date(2026, 10, 30))
    wh = project / "data" / "warehouse" / "funnel.duckdb"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys
                con = duckdb.connect({str(wh)!r}, read_only=True)
                print(con.execute("select max(day) from funnel_daily").fetchone()[0], flush=True)
                sys.stdin.readline()
                print(con.execute("select max(day) from funnel_daily").fetchone()[0], flush=True)
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None and reader.stdin is not None
    assert reader.stdout.readline().strip() == "2026-10-30"
    summary = nightly(config_path=cfg, as_of=AS_OF)  # the reader still holds the old file
    assert summary.status == "published"
    out, _ = reader.communicate("go\n", timeout=30)
    assert out.strip() == "2026-10-30"  # a consistent old version for the open reader
    assert _query(wh, "select max(day) from funnel_daily") == [(AS_OF,)]


@pytest.mark.usefixtures("asserting_and_emitting_events_worker")
def test_the_run_announces_itself_before_its_first_task(project: Path) -> None:
    # Prefect's own recording events client (its test fixture): events still reach the server
    summary = nightly(config_path=str(project / "funnel.toml"), as_of=AS_OF)
    EventsWorker.instance().drain()
    client = AssertingPassthroughEventsClient.last  # this test's worker's
    assert client is not None
    events = client.events
    names = [e.event for e in events]
    started = [e for e in events if e.event == "funnel.run.started"]
    assert len(started) == 1
    assert started[0].resource.id == f"funnel.run.{summary.run_id}"
    assert started[0].resource["funnel.as-of"] == str(AS_OF)
    first_task = next(i for i, n in enumerate(names) if n.startswith("prefect.task-run."))
    assert names.index("funnel.run.started") < first_task
