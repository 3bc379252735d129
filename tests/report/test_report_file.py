"""The report file: built from the published tables alone, self-contained, written atomically."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from funnel.errors import ConfigError
from funnel.report import files
from funnel.report.render import render, write_report
from tests.conftest import REPO

#: Anything a browser would fetch from the network while showing the page.
FETCHING = re.compile(
    r"""<(?:script|img|iframe|audio|video|source|embed)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//"""
    r"""|@import\b|url\(\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def _kpi(html: str, metric: str) -> str:
    match = re.search(
        rf'data-metric="{metric}"><span class="label">[^<]*</span><span class="value">([^<]*)<',
        html,
    )
    assert match, metric
    return match.group(1)


def test_sections_whose_tables_are_absent_step_aside(metrics_only_warehouse: Path) -> None:
    html = render(metrics_only_warehouse)
    # the warehouse's as-of day is its last day; tiles show the 'all' window
    assert "Funnel report, as of 2026-03-31" in html
    assert (_kpi(html, "won"), _kpi(html, "lost")) == ("1,234", "766")
    assert _kpi(html, "win_rate") == "61.7 %"
    assert _kpi(html, "avg_deal_size") == "1,000.50"
    assert 'id="headline"' in html and 'id="trends"' in html
    for absent in ("funnel", "forecast", "stalls", "owners", "sources", "quality"):
        assert f'id="{absent}"' not in html
    # a past day reads that day's rows
    assert _kpi(render(metrics_only_warehouse, date(2026, 3, 30)), "won") == "5"


def test_the_page_fetches_nothing(metrics_only_warehouse: Path) -> None:
    html = render(metrics_only_warehouse)
    assert FETCHING.search(html) is None
    assert "window.vegaEmbed=" in html  # the chart library is inline
    assert html.count('<script type="application/json" id="spec-') == 4  # one per trend chart


def test_a_day_outside_the_warehouse_is_a_usage_error(metrics_only_warehouse: Path) -> None:
    with pytest.raises(ConfigError, match=r"--as-of 2026-04-01: .* 2026-03-30\.\.2026-03-31"):
        render(metrics_only_warehouse, date(2026, 4, 1))
    with pytest.raises(ConfigError, match="no warehouse at"):
        render(metrics_only_warehouse.with_name("missing.duckdb"))


def test_a_failed_report_leaves_the_old_file_whole(metrics_only_warehouse: Path) -> None:
    out = metrics_only_warehouse.with_name("report.html")
    write_report(metrics_only_warehouse, out)
    before = out.read_bytes()
    with pytest.raises(ConfigError):
        write_report(metrics_only_warehouse, out, date(2030, 1, 1))
    assert out.read_bytes() == before
    files.write_atomic("<p>new</p>", out)
    assert out.read_text() == "<p>new</p>"
    assert sorted(p.name for p in out.parent.iterdir()) == ["funnel.duckdb", "report.html"]


def _funnel(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "funnel", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


def test_funnel_report_command(metrics_only_warehouse: Path) -> None:
    project = metrics_only_warehouse.parent.parent
    (project / "funnel.toml").write_text(
        '[warehouse]\npath = "warehouse/funnel.duckdb"\n\n'
        '[[sources]]\nname = "deals"\nentity = "opportunities"\npath = "deals.csv"\n'
    )
    result = _funnel("report", cwd=project)
    assert result.returncode == 0, result.stderr
    default = metrics_only_warehouse.with_name("report.html")
    assert _kpi(default.read_text(), "won") == "1,234"

    result = _funnel("report", "--as-of", "2026-03-30", "--out", "past.html", cwd=project)
    assert result.returncode == 0, result.stderr
    assert _kpi((project / "past.html").read_text(), "won") == "5"

    result = _funnel("report", "--as-of", "2027-01-01", cwd=project)
    assert result.returncode == 2
    assert "--as-of 2027-01-01" in result.stderr

    result = _funnel("report", "--config", "other.toml", cwd=project)
    assert result.returncode == 2
    assert "other.toml" in result.stderr

    metrics_only_warehouse.unlink()
    result = _funnel("report", cwd=project)
    assert result.returncode == 2
    assert "no warehouse at" in result.stderr
