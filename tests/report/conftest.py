"""Shared report fixtures: Debian's headless chromium under pytest-playwright, small warehouses."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from playwright.sync_api import Page

#: The JS expression that is true once every chart has rendered (or failed to).
CHARTS_DONE = "document.body && document.body.dataset.charts"
#: Per chart container: its spec id and the number of data marks drawn in its SVG.
CHART_MARKS = """
Array.from(document.querySelectorAll('.chart[data-spec]')).map(el => [
  el.dataset.spec,
  el.querySelectorAll('svg g.role-mark > path, svg g.role-mark > text').length,
])
"""


#: Debian's chromium on a closed network: no background connections, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launches Debian's headless chromium (Playwright's own browser download
    cannot run here). Skips where none is installed, except in CI (.ci/run installs it)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium): browser tests skipped")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@dataclass
class ReportPage:
    """A page showing a report, with what it logged and fetched since it opened."""

    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def evaluate(self, expression: str) -> Any:
        return self.page.evaluate(expression)


def open_report(page: Page, report: Path) -> ReportPage:
    """The report from disk in `page`, once its charts are done; console errors, uncaught
    exceptions and every request recorded."""
    shown = ReportPage(page)
    page.on("console", lambda m: shown.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: shown.errors.append(str(e)))
    page.on("request", lambda r: shown.requests.append(r.url))
    page.goto(report.resolve().as_uri())
    page.wait_for_function(CHARTS_DONE, timeout=60_000)
    return shown


#: funnel_metrics_daily as the contract defines it, for hand-made warehouses.
METRICS_DDL = """
create table funnel_metrics_daily (
    day date, trailing_window varchar, won bigint, lost bigint, win_rate double, won_amount double,
    avg_deal_size double, avg_cycle_days double, median_cycle_days double, open_count bigint,
    open_amount double, weighted_pipeline double, sales_velocity double, currency varchar
)
"""


@pytest.fixture
def metrics_only_warehouse(tmp_path: Path) -> Path:
    """A warehouse holding only funnel_metrics_daily, two days (other sections must step aside)."""
    path = tmp_path / "warehouse" / "funnel.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute(METRICS_DDL)
        con.execute(
            """
            insert into funnel_metrics_daily
            select day, w, won, lost, won / (won + lost), won * 1000.5, 1000.5, 30, 28,
                   12, 48000, 19000.25, 12 * (won / (won + lost)) * 1000.5 / 30, null
            from (values (date '2026-03-30', 5, 3), (date '2026-03-31', 1234, 766))
                     d(day, won, lost),
                 (values ('30d'), ('90d'), ('365d'), ('all')) w(w)
            """
        )
    return path
