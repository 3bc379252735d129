"""Freshness: a stale export is named in the run summary, the alert and the report, and blocks
the run when its check is an error."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from flows.nightly import nightly
from tests.conftest import REPO
from tests.integration.ops_helpers import WEBHOOK_ENV, query, webhook, write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]
#: The export's newest lead was created 2026-10-31 11:30, five weeks (35 days) before this day;
#: its newest deal closed 2026-10-30 15:00 (36 days).
FIVE_WEEKS_LATER = date(2026, 12, 5)
LEADS_STALE = (
    "crm_leads: stale export: newest record 2026-10-31 11:30 (created_at), 35 days before the"
    " as-of day 2026-12-05; max_staleness_days 7"
)
DEALS_STALE = (
    "crm_deals: stale export: newest record 2026-10-30 15:00 (closed_at), 36 days before the"
    " as-of day 2026-12-05; max_staleness_days 7"
)


def _run(config: Path, as_of: date, hook_url: str) -> subprocess.CompletedProcess[str]:
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(REPO),
        WEBHOOK_ENV: hook_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "funnel", "run", "--config", str(config), "--as-of", str(as_of)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _words(text: str) -> str:
    """The text with its line wrapping undone (rich wraps to the terminal's width)."""
    return " ".join(text.split())


def test_a_stale_export_warns_in_summary_alert_and_report_and_publishes(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    with webhook() as hook:
        result = _run(config, FIVE_WEEKS_LATER, hook.url)
    assert result.returncode == 0, result.stderr
    out = _words(result.stdout)
    assert f"warning: {DEALS_STALE}" in out
    assert f"warning: {LEADS_STALE}" in out
    (text,) = hook.delivered
    assert text.startswith("*funnel published*: published; 2 stale sources (as of 2026-12-05)")
    assert f"• {LEADS_STALE}\n• {DEALS_STALE}" in text  # in the order of the config
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    assert query(
        wh,
        "select source, column_name, severity, rows_checked, rows_failed, passed from dq_results"
        " where \"check\" = 'freshness' order by source",
    ) == [
        ("crm_deals", "closed_at", "warn", 10, 10, False),
        ("crm_leads", "created_at", "warn", 11, 11, False),
    ]
    assert query(wh, "select alerts_sent from pipeline_runs") == [(1,)]
    page = _words((tmp_path / "warehouse" / "report.html").read_text())
    banner = page.split('<div class="banner" role="alert">', 1)[1].split("</div>", 1)[0]
    assert banner == (
        "Stale export: crm_deals has no recent records (newest record 2026-10-30 15:00"
        " (closed_at), 36 days before the as-of day 2026-12-05; max_staleness_days 7). Its"
        " figures of the last days may be missing."
    )
    assert page.index('class="banner"') < page.index("<section")


def test_a_stale_export_blocks_the_run_when_freshness_is_an_error(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    config.write_text(config.read_text() + '\n[validation]\nseverity = { freshness = "error" }\n')
    with webhook() as hook:
        result = _run(config, FIVE_WEEKS_LATER, hook.url)
    assert result.returncode == 3, result.stderr
    assert DEALS_STALE in _words(result.stderr)
    assert not (tmp_path / "warehouse" / "funnel.duckdb").exists()
    (text,) = hook.delivered
    assert text.startswith("*funnel failed_dq*: blocking data-quality gate failed")
    assert f"  {LEADS_STALE}\n  {DEALS_STALE}" in text
    assert "• crm_deals: freshness (error) 10 of 10 rows" in text
    state = tmp_path / "warehouse" / "funnel.state.duckdb"
    assert query(state, "select status, exit_code from log_pipeline_runs") == [("failed_dq", 3)]


def test_freshness_is_judged_against_the_as_of_day_over_every_loaded_row(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    wh = tmp_path / "warehouse" / "funnel.duckdb"

    def freshness() -> list[tuple[object, ...]]:
        return query(
            wh,
            "select source, passed, details from dq_results where \"check\" = 'freshness'"
            " and run_id = (select max(run_id) from pipeline_runs) order by source",
        )

    # a past day: rows born later are set aside (deferred), so the newest is that day's own
    summary = nightly(config_path=str(config), as_of=date(2026, 10, 20))
    assert summary.stale == ()
    assert freshness() == [
        (
            "crm_deals",
            True,
            "newest record 2026-10-20 10:00 (closed_at), 0 days before the as-of day"
            " 2026-10-20; max_staleness_days 7",
        ),
        (
            "crm_leads",
            True,
            "newest record 2026-10-20 15:00 (created_at), 0 days before the as-of day"
            " 2026-10-20; max_staleness_days 7",
        ),
    ]
    # a week after the newest lead: not stale yet; the newest deal is a day older: stale
    summary = nightly(config_path=str(config), as_of=date(2026, 11, 7))
    assert summary.stale == (
        "crm_deals: stale export: newest record 2026-10-30 15:00 (closed_at), 8 days before"
        " the as-of day 2026-11-07; max_staleness_days 7",
    )
    # the same files five weeks on: an incremental run, every row carried from the state
    summary = nightly(config_path=str(config), as_of=FIVE_WEEKS_LATER)
    assert summary.stale == (LEADS_STALE, DEALS_STALE)
    modes = query(
        wh,
        "select s.source, s.mode from (select unnest(sources) as s from pipeline_runs"
        f" where as_of = '{FIVE_WEEKS_LATER}') order by 1",
    )
    assert modes == [("crm_deals", "incremental"), ("crm_leads", "incremental")]
