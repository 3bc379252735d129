"""The report in a real browser: every chart draws its marks, no errors, nothing fetched.

Debian's headless chromium driven by pytest-playwright; screenshots land beside the report.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page

from flows.nightly import nightly
from funnel.commands import installed
from funnel.report import format as fmt
from tests.acceptance.test_maven_crm import CONFIG as MAVEN_CONFIG
from tests.report.conftest import CHART_MARKS, ReportPage, open_report

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

KPI_TEXT = """
Object.fromEntries(Array.from(document.querySelectorAll('[data-metric]')).map(
  el => [el.dataset.metric, el.querySelector('.value').innerText]))
"""


def _check_page(shown: ReportPage, shot: Path) -> list[list[object]]:
    """Every chart rendered with marks, no console error or exception, only local files read."""
    assert shown.evaluate("document.body.dataset.charts") == "rendered", shown.errors
    charts = shown.evaluate(CHART_MARKS)
    assert charts, "no chart on the page"
    assert [c for c in charts if c[1] == 0] == []  # a container without marks did not render
    assert shown.errors == []
    assert [u for u in shown.requests if not u.startswith(("file:", "data:"))] == []
    shown.page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return list(charts)


def test_maven_report_shows_the_warehouse_figures(
    tmp_path: Path, shared_data: Path, page: Page
) -> None:
    (tmp_path / "funnel.toml").write_text(MAVEN_CONFIG.format(data=shared_data))
    nightly(config_path=str(tmp_path / "funnel.toml"), as_of=date(2017, 12, 31))
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    report = wh.with_name("report.html")

    shown = open_report(page, report)
    charts = _check_page(shown, tmp_path / "maven-report.png")
    # Maven has no leads (no lead-source chart), and its open deals no amount (no forecast chart)
    ids = {c[0].split("-")[1] for c in charts}
    assert ids >= {"funnel", "trends", "stalls", "owners", "quality"}
    assert "sources" not in ids

    kpis = shown.evaluate(KPI_TEXT)
    assert page.title() == "Funnel report, as of 2017-12-31"
    assert (kpis["won"], kpis["lost"], kpis["win_rate"], kpis["avg_deal_size"]) == (
        "4,238",
        "2,473",
        "63.2 %",
        "2,360.91",
    )
    with duckdb.connect(str(wh), read_only=True) as con:
        won, lost, win_rate, avg_deal = con.execute(
            """
            select won, lost, win_rate, avg_deal_size from funnel_metrics_daily
            where day = date '2017-12-31' and trailing_window = 'all'
            """
        ).fetchall()[0]
        rows = con.execute("select rows_read, rows_quarantined from pipeline_runs").fetchall()
    assert kpis["won"] == fmt.count(won)
    assert kpis["lost"] == fmt.count(lost)
    assert kpis["win_rate"] == fmt.percent(win_rate)
    assert kpis["avg_deal_size"] == fmt.money(avg_deal)
    assert (
        (kpis["rows_read"], kpis["rows_quarantined"])
        == ("8,800", "0")
        == (
            fmt.count(rows[0][0]),
            fmt.count(rows[0][1]),
        )
    )
    # the plain table beside the funnel chart has the as-of day's stage counts
    text = page.evaluate("document.getElementById('funnel-1').innerText")
    assert "prospecting\t500" in text and "meeting\t1,589" in text


def test_sample_report_renders_every_section(
    tmp_path: Path, sample_project: Path, page: Page
) -> None:
    report = sample_project.parent / "data" / "warehouse" / "report.html"

    charts = _check_page(open_report(page, report), tmp_path / "sample-report.png")
    ids = {c[0].split("-")[1] for c in charts}
    assert ids >= {"funnel", "trends", "forecast", "stalls", "owners", "sources", "quality"}
    # the failed checks and a ready-to-paste query for the quarantined rows, in the DuckDB
    # shell installed with funnel
    quality = page.evaluate("document.getElementById('quality').innerText")
    assert "duplicate_superseded" in quality
    assert "from dq_quarantine\nwhere run_id = '20261031-" in quality
    assert f"{installed('duckdb')} -readonly {report.with_name('funnel.duckdb')}" in quality
