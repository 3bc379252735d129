"""Shared report fixtures: a headless Chromium for the session, small warehouses."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.report.chromium import Chromium, Page

#: The JS expression that is true once every chart has rendered (or failed to).
CHARTS_DONE = "document.body && document.body.dataset.charts"
#: Per chart container: its spec id and the number of data marks drawn in its SVG.
CHART_MARKS = """
Array.from(document.querySelectorAll('.chart[data-spec]')).map(el => [
  el.dataset.spec,
  el.querySelectorAll('svg g.role-mark > path, svg g.role-mark > text').length,
])
"""


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """Debian's headless Chromium, one process for every browser test (it is slow to start).

    Skips where no chromium is installed, except in CI (.ci/run installs it).
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium): browser tests skipped")
    browser = Chromium(executable, tmp_path_factory.mktemp("chromium"))
    try:
        yield browser
    finally:
        browser.close()


def open_report(chromium: Chromium, report: Path) -> Page:
    """A new tab showing the report from disk, once its charts are done."""
    page = chromium.new_page()
    page.open(report.resolve().as_uri(), CHARTS_DONE)
    return page


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
