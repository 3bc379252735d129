"""The real Maven Analytics CRM export through `funnel run`'s flow, configured only in TOML."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.nightly import nightly

pytestmark = [pytest.mark.acceptance, pytest.mark.usefixtures("prefect_server")]

CONFIG = """
[warehouse]
path = "warehouse/funnel.duckdb"
timezone = "UTC"

[[sources]]
name = "maven"
entity = "opportunities"
format = "csv"
path = "{data}/maven_crm/sales_pipeline.csv"

[sources.columns]
opportunity_id = "opportunity_id"
stage = "deal_stage"
created_at = "engage_date"
closed_at = "close_date"
amount = "close_value"
owner = "sales_agent"
account = "account"

[sources.stages]
Prospecting = "prospecting"
Engaging = "meeting"
Won = "won"
Lost = "lost"
"""


def test_maven_export_gives_the_known_figures(tmp_path: Path, shared_data: Path) -> None:
    (tmp_path / "funnel.toml").write_text(CONFIG.format(data=shared_data))
    summary = nightly(config_path=str(tmp_path / "funnel.toml"), as_of=date(2017, 12, 31))
    (maven,) = summary.sources
    assert (maven.rows_read, maven.rows_loaded, maven.rows_quarantined) == (8800, 8800, 0)

    with duckdb.connect(str(tmp_path / "warehouse" / "funnel.duckdb"), read_only=True) as con:
        won, lost, win_rate, avg_deal, median_cycle = (
            con.execute(
                """
            select won, lost, round(win_rate, 4), round(avg_deal_size, 2), median_cycle_days
            from funnel_metrics_daily where day = date '2017-12-31' and trailing_window = 'all'
            """
            ).fetchone()
            or ()
        )
        in_stage = dict(
            con.execute(
                "select stage, in_stage from funnel_daily where day = date '2017-12-31'"
            ).fetchall()
        )
        top_owner = con.execute(
            """
            select owner, won_amount from owner_metrics_daily
            where day = date '2017-12-31' and trailing_window = 'all'
            order by won_amount desc nulls last limit 1
            """
        ).fetchone()
    assert (won, lost, win_rate, avg_deal, median_cycle) == (4238, 2473, 0.6315, 2360.91, 57)
    assert (in_stage["prospecting"], in_stage["meeting"]) == (500, 1589)
    assert top_owner == ("Darcel Schlecht", 1153214)
