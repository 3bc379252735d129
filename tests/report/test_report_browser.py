"""The report in a real browser: every chart draws its marks, no errors, nothing fetched.

Headless Debian Chromium over the DevTools protocol; screenshots land beside the report.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.nightly import nightly
from funnel.report import format as fmt
from tests.acceptance.test_maven_crm import CONFIG as MAVEN_CONFIG
from tests.conftest import copy_sample
from tests.report.chromium import Chromium, Page
from tests.report.conftest import CHART_MARKS, open_report

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

KPI_TEXT = """
Object.fromEntries(Array.from(document.querySelectorAll('[data-metric]')).map(
  el => [el.dataset.metric, el.querySelector('.value').innerText]))
"""


def _check_page(page: Page, shot: Path) -> list[list[object]]:
    """Every chart rendered with marks, no console error or exception, only local files read."""
    assert page.evaluate("document.body.dataset.charts") == "rendered", page.errors()
    charts = page.evaluate(CHART_MARKS)
    assert charts, "no chart on the page"
    assert [c for c in charts if c[1] == 0] == []  # a container without marks did not render
    assert page.errors() == []
    assert [u for u in page.requests() if not u.startswith(("file:", "data:"))] == []
    page.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return list(charts)


def test_maven_report_shows_the_warehouse_figures(
    tmp_path: Path, shared_data: Path, chromium: Chromium
) -> None:
    (tmp_path / "funnel.toml").write_text(MAVEN_CONFIG.format(data=shared_data))
    nightly(config_path=str(tmp_path / "funnel.toml"), as_of=date(2017, 12, 31))
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    report = wh.with_name("report.html")

    page = open_report(chromium, report)
    charts = _check_page(page, tmp_path / "maven-report.png")
    # Maven has no leads (no lead-source chart), and its open deals no amount (no forecast chart)
    ids = {c[0].split("-")[1] for c in charts}
    assert ids >= {"funnel", "trends", "stalls", "owners", "quality"}
    assert "sources" not in ids

    shown = page.evaluate(KPI_TEXT)
    assert page.evaluate("document.title") == "Funnel report, as of 2017-12-31"
    assert (shown["won"], shown["lost"], shown["win_rate"], shown["avg_deal_size"]) == (
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
    assert shown["won"] == fmt.count(won)
    assert shown["lost"] == fmt.count(lost)
    assert shown["win_rate"] == fmt.percent(win_rate)
    assert shown["avg_deal_size"] == fmt.money(avg_deal)
    assert (
        (shown["rows_read"], shown["rows_quarantined"])
        == ("8,800", "0")
        == (
            fmt.count(rows[0][0]),
            fmt.count(rows[0][1]),
        )
    )
    # the plain table beside the funnel chart has the as-of day's stage counts
    text = page.evaluate("document.getElementById('funnel-1').innerText")
    assert "prospecting\t500" in text and "meeting\t1,589" in text


def test_sample_report_renders_every_section(tmp_path: Path, chromium: Chromium) -> None:
    nightly(config_path=str(copy_sample(tmp_path)), as_of=date(2026, 10, 31))
    report = tmp_path / "data" / "warehouse" / "report.html"

    page = open_report(chromium, report)
    charts = _check_page(page, tmp_path / "sample-report.png")
    ids = {c[0].split("-")[1] for c in charts}
    assert ids >= {"funnel", "trends", "forecast", "stalls", "owners", "sources", "quality"}
    # the failed checks and a ready-to-paste query for the quarantined rows
    quality = page.evaluate("document.getElementById('quality').innerText")
    assert "duplicate_superseded" in quality
    assert "from dq_quarantine\nwhere run_id = '20261031-" in quality
