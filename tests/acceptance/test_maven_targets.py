"""Targets and teams on the real Maven Analytics CRM export: sales_teams.csv read as the owners
entity, a targets file written here, and target_attainment per team equal to a hand
computation from the raw CSVs (issue 23)."""

from __future__ import annotations

import csv
from collections import defaultdict
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

# one bad target row of 13 is quarantined, not blocking
[validation]
max_error_share = 0.1

[[sources]]
name = "maven"
entity = "opportunities"
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

[[sources]]
name = "maven_teams"
entity = "owners"
path = "{data}/maven_crm/sales_teams.csv"
[sources.columns]
owner = "sales_agent"
team = "regional_office"
manager = "manager"

[[sources]]
name = "targets"
entity = "targets"
path = "targets.csv"
[sources.columns]
period_kind = "Period"
period_start = "Start"
team = "Team"
owner = "Rep"
amount = "Target"
"""

TEAMS = ("Central", "East", "West")
QUARTERS = (date(2017, 1, 1), date(2017, 4, 1), date(2017, 7, 1), date(2017, 10, 1))
#: Each team's quarterly target: 700,000 in Q1, then 100,000 more each quarter.
TARGETS = {(team, q): 700_000 + 100_000 * i for team in TEAMS for i, q in enumerate(QUARTERS)}


def _won_by_team_and_quarter(data: Path) -> dict[tuple[str, date], float]:
    """Won close_value per regional office and quarter of close_date, from the raw CSVs."""
    with (data / "maven_crm" / "sales_teams.csv").open(newline="") as f:
        office = {row["sales_agent"]: row["regional_office"] for row in csv.DictReader(f)}
    won: dict[tuple[str, date], float] = defaultdict(float)
    with (data / "maven_crm" / "sales_pipeline.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["deal_stage"] != "Won":
                continue
            closed = date.fromisoformat(row["close_date"])
            quarter = date(closed.year, 3 * ((closed.month - 1) // 3) + 1, 1)
            won[(office[row["sales_agent"]], quarter)] += float(row["close_value"])
    return won


def test_attainment_per_team_matches_the_raw_csvs(tmp_path: Path, shared_data: Path) -> None:
    (tmp_path / "funnel.toml").write_text(CONFIG.format(data=shared_data))
    lines = ["Period,Start,Team,Rep,Target"]
    lines += [f"quarter,{q},{team},,{amount}" for (team, q), amount in TARGETS.items()]
    lines.append("Quarterly,2017-01-01,Central,,1")  # not a period kind: quarantined
    (tmp_path / "targets.csv").write_text("\n".join(lines) + "\n")

    summary = nightly(config_path=str(tmp_path / "funnel.toml"), as_of=date(2017, 12, 31))
    counts = {s.source: (s.rows_read, s.rows_loaded, s.rows_quarantined) for s in summary.sources}
    assert counts == {
        "maven": (8800, 8800, 0),
        "maven_teams": (35, 35, 0),
        "targets": (13, 12, 1),
    }

    won = _won_by_team_and_quarter(shared_data)
    warehouse = tmp_path / "warehouse" / "funnel.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select name, period_start, target, won_amount, attainment from target_attainment"
            " where level = 'team' and period_kind = 'quarter' and period_start >= '2017-01-01'"
            " order by name, period_start"
        ).fetchall()
        company = con.execute(
            "select target, won_amount from target_attainment where level = 'company'"
            " and period_kind = 'quarter' and period_start = '2017-10-01'"
        ).fetchall()
        reason = con.execute(
            "select reasons from dq_quarantine where source = 'targets'"
        ).fetchall()
    expected = [
        (team, q, float(TARGETS[(team, q)]), won[(team, q)], won[(team, q)] / TARGETS[(team, q)])
        for team in TEAMS
        for q in QUARTERS
    ]
    assert [(n, p, t, round(w, 2), round(a, 6)) for n, p, t, w, a in rows] == [
        (n, p, t, round(w, 2), round(a, 6)) for n, p, t, w, a in expected
    ]
    assert sum(w for (_, q), w in won.items() if q == QUARTERS[3]) > 0
    assert company == [(3 * 1_000_000.0, sum(w for (_, q), w in won.items() if q == QUARTERS[3]))]
    assert reason == [("period_kind 'Quarterly' is not one of month, quarter, year",)]
