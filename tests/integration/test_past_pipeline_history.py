"""Issue 19 follow-up: a past day's open pipeline in funnel_metrics_daily / owner_metrics_daily
values each opportunity as it stood at the end of that day (from the pipeline's own snapshots),
so later nights never rewrite it. Three nightly runs in which an open deal's amount and
probability change and another moves stage; figures hand-computed below."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from flows.nightly import nightly
from tests.integration.ops_helpers import query

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

D0, D1, D2, D3 = date(2026, 10, 28), date(2026, 10, 29), date(2026, 10, 30), date(2026, 10, 31)

CONFIG = """
[warehouse]
path = "warehouse/funnel.duckdb"
timezone = "UTC"

[[sources]]
name = "crm_deals"
entity = "opportunities"
path = "export/deals.csv"
probability_scale = 1
[sources.columns]
opportunity_id = "Deal ID"
owner = "Owner"
stage = "Stage"
amount = "Amount"
probability = "Probability"
created_at = "Created"
[sources.stages]
"Discovery" = "meeting"
"Proposal" = "proposal"
"Negotiation" = "negotiation"
"Closed Won" = "won"
"Closed Lost" = "lost"
"""

HEADER = "Deal ID,Owner,Stage,Amount,Probability,Created"
NIGHTS = {
    D1: [
        "A,ana,Proposal,1000,0.4,2026-10-10 09:00:00",
        "B,bo,Discovery,500,0.1,2026-10-20 09:00:00",
    ],
    # A's amount and probability change; B moves to negotiation
    D2: [
        "A,ana,Proposal,2000,0.5,2026-10-10 09:00:00",
        "B,bo,Negotiation,500,0.6,2026-10-20 09:00:00",
    ],
    # A's amount changes again; C is new
    D3: [
        "A,ana,Proposal,3000,0.5,2026-10-10 09:00:00",
        "B,bo,Negotiation,500,0.6,2026-10-20 09:00:00",
        "C,bo,Discovery,100,0.1,2026-10-31 09:00:00",
    ],
}

OPEN_SQL = (
    "select day, open_count, open_amount, weighted_pipeline, open_basis from funnel_metrics_daily"
    " where trailing_window = 'all' and day >= date '2026-10-28' order by day"
)
OWNER_SQL = (
    "select day, owner, open_count, open_amount, weighted_pipeline, open_basis"
    " from owner_metrics_daily where trailing_window = 'all' and day >= date '2026-10-28'"
    " order by day, owner"
)


def test_past_open_pipeline_keeps_the_values_of_its_day(tmp_path: Path) -> None:
    project = tmp_path / "project"
    warehouse = project / "warehouse" / "funnel.duckdb"
    (project / "export").mkdir(parents=True)
    (project / "funnel.toml").write_text(CONFIG)
    seen: dict[date, list[tuple[object, ...]]] = {}
    for day, rows in NIGHTS.items():
        (project / "export" / "deals.csv").write_text("\n".join([HEADER, *rows]) + "\n")
        assert nightly(config_path=str(project / "funnel.toml"), as_of=day).status == "published"
        seen[day] = query(warehouse, OPEN_SQL)
        shutil.copy(warehouse, tmp_path / f"{day}.duckdb")

    # 10-28: before the first snapshot nothing older is known: today's values (3000 x 0.5 +
    #   500 x 0.6), said by open_basis.
    # 10-29: first night: A 1000 x 0.4 = 400, B 500 x 0.1 = 50.
    # 10-30: A 2000 x 0.5 = 1000, B 500 x 0.6 = 300.
    # 10-31 (as-of): A 3000 x 0.5 = 1500, B 300, C 100 x 0.1 = 10.
    assert seen[D3] == [
        (D0, 2, 3500.0, 1800.0, "current"),
        (D1, 2, 1500.0, 450.0, "snapshot"),
        (D2, 2, 2500.0, 1300.0, "snapshot"),
        (D3, 3, 3600.0, 1810.0, "current"),
    ]
    # a night's own row is never rewritten by later nights
    assert seen[D1][-1][:4] == seen[D3][1][:4]
    assert seen[D2][-1][:4] == seen[D3][2][:4]

    assert query(warehouse, OWNER_SQL) == [
        (D0, "ana", 1, 3000.0, 1500.0, "current"),
        (D0, "bo", 1, 500.0, 300.0, "current"),
        (D1, "ana", 1, 1000.0, 400.0, "snapshot"),
        (D1, "bo", 1, 500.0, 50.0, "snapshot"),
        (D2, "ana", 1, 2000.0, 1000.0, "snapshot"),
        (D2, "bo", 1, 500.0, 300.0, "snapshot"),
        (D3, "ana", 1, 3000.0, 1500.0, "current"),
        (D3, "bo", 2, 600.0, 310.0, "current"),
    ]
