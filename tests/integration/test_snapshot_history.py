"""Stage history from the pipeline's own snapshots: an export with only the current stage, run
on three as-of days, gets its moves in stage_transitions; a rebuild gives the same tables."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from flows.nightly import nightly
from flows.rebuild import rebuild
from funnel.errors import ConfigError
from tests.integration.ops_helpers import published_tables, query

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

D1, D2, D3 = date(2026, 10, 29), date(2026, 10, 30), date(2026, 10, 31)

CONFIG = """
[warehouse]
path = "warehouse/funnel.duckdb"
timezone = "UTC"

[[sources]]
name = "crm_leads"
entity = "leads"
path = "export/leads.csv"
[sources.columns]
lead_id = "Lead ID"
created_at = "Created"
stage = "Status"
updated_at = "Modified"
[sources.stages]
"New" = "prospecting"
"Working" = "qualification"
"Unqualified" = "lost"

[[sources]]
name = "crm_deals"
entity = "opportunities"
path = "export/deals.csv"
[sources.columns]
opportunity_id = "Deal ID"
lead_id = "Lead ID"
stage = "Stage"
amount = "Amount"
created_at = "Created"
closed_at = "Closed"
updated_at = "Modified"
[sources.stages]
"Discovery" = "meeting"
"Proposal" = "proposal"
"Negotiation" = "negotiation"
"Closed Won" = "won"
"Closed Lost" = "lost"
"""

LEAD_HEADER = ("Lead ID", "Created", "Status", "Modified")
DEAL_HEADER = ("Deal ID", "Lead ID", "Stage", "Amount", "Created", "Closed", "Modified")

# Day 1: the export as first seen.
LEADS_D1 = [
    ("L-1", "2026-10-01 09:00:00", "Working", "2026-10-02 09:00:00"),
    ("L-2", "2026-10-05 09:00:00", "Unqualified", "2026-10-06 09:00:00"),
]
DEALS_D1 = [
    ("D-1", "L-1", "Discovery", "1000", "2026-10-10 09:00:00", "", "2026-10-10 09:00:00"),
    ("D-2", "", "Proposal", "2000", "2026-10-12 09:00:00", "", "2026-10-12 09:00:00"),
    ("D-3", "", "Discovery", "3000", "2026-10-15 09:00:00", "", "2026-10-15 09:00:00"),
]
# Day 2: D-1 skips proposal (meeting -> negotiation, modified that day); D-2 is lost.
DEALS_D2 = [
    ("D-1", "L-1", "Negotiation", "1000", "2026-10-10 09:00:00", "", "2026-10-30 10:00:00"),
    ("D-2", "", "Closed Lost", "2000", "2026-10-12 09:00:00", "2026-10-30 16:00:00", ""),
    DEALS_D1[2],
]
# Day 3: D-1 moves back to proposal (its modified date says nothing new: entered at the day);
# D-2 is reopened (back to proposal, a re-entry); L-2 returns from nurture (lost -> working);
# D-3 is gone from the export.
LEADS_D3 = [
    LEADS_D1[0],
    ("L-2", "2026-10-05 09:00:00", "Working", "2026-10-31 08:00:00"),
]
DEALS_D3 = [
    ("D-1", "L-1", "Proposal", "1000", "2026-10-10 09:00:00", "", "2026-10-30 10:00:00"),
    ("D-2", "", "Proposal", "2000", "2026-10-12 09:00:00", "", "2026-10-31 09:30:00"),
]


def _write(root: Path, leads: list[tuple[str, ...]], deals: list[tuple[str, ...]]) -> Path:
    (root / "export").mkdir(parents=True, exist_ok=True)
    for name, header, rows in (("leads", LEAD_HEADER, leads), ("deals", DEAL_HEADER, deals)):
        text = "".join(",".join(r) + "\n" for r in [header, *rows])
        (root / "export" / f"{name}.csv").write_text(text)
    config = root / "funnel.toml"
    config.write_text(CONFIG)
    return config


def _transitions(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    rows = query(
        warehouse,
        "select record_id, stage, entered_at, exited_at, next_stage, direction, entry_source"
        " from stage_transitions order by record_id, entered_at, stage_order",
    )
    out: dict[str, list[tuple[object, ...]]] = {}
    for record_id, *rest in rows:
        out.setdefault(str(record_id), []).append(tuple(rest))
    return out


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_snapshot_only_export_gets_its_moves_and_rebuilds_the_same(tmp_path: Path) -> None:
    project = tmp_path / "project"
    warehouse = project / "warehouse" / "funnel.duckdb"
    state_file = project / "warehouse" / "funnel.state.duckdb"
    copies = {}
    for day, leads, deals in (
        (D1, LEADS_D1, DEALS_D1),
        (D2, LEADS_D1, DEALS_D2),
        (D3, LEADS_D3, DEALS_D3),
    ):
        config = _write(project, leads, deals)
        assert nightly(config_path=str(config), as_of=day).status == "published"
        copies[day] = tmp_path / f"{day}.duckdb"
        shutil.copy(warehouse, copies[day])

    # changes only: day 1 sees 5 records, day 2 the 2 deals that moved, day 3 two deals, the
    # returning lead, and D-3 gone
    assert query(state_file, "select as_of, snapshot_rows from state_loads order by load_seq") == [
        (D1, 5),
        (D2, 2),
        (D3, 4),
    ]
    assert query(
        state_file,
        "select id from state_snapshots where not present and as_of = ?".replace("?", f"'{D3}'"),
    ) == [("D-3",)]

    moves = _transitions(warehouse)
    # skipped stage and a move back: meeting -> negotiation (proposal gets no entry) -> proposal
    assert moves["L-1"] == [
        (
            "prospecting",
            ts("2026-10-01 09:00"),
            ts("2026-10-10 09:00"),
            "meeting",
            "forward",
            "lead_created",
        ),
        (
            "meeting",
            ts("2026-10-10 09:00"),
            ts("2026-10-30 10:00"),
            "negotiation",
            "forward",
            "record_state",
        ),
        (
            "negotiation",
            ts("2026-10-30 10:00"),
            ts("2026-10-31 00:00"),
            "proposal",
            "back",
            "snapshot",
        ),
        ("proposal", ts("2026-10-31 00:00"), None, None, None, "snapshot"),
    ]
    # a nurtured lead returning: lost (disqualified) -> qualification is a move back
    assert moves["L-2"] == [
        (
            "prospecting",
            ts("2026-10-05 09:00"),
            ts("2026-10-06 09:00"),
            "lost",
            "close",
            "lead_created",
        ),
        (
            "lost",
            ts("2026-10-06 09:00"),
            ts("2026-10-31 08:00"),
            "qualification",
            "back",
            "record_state",
        ),
        ("qualification", ts("2026-10-31 08:00"), None, None, None, "snapshot"),
    ]
    # a lost deal reopened: lost at its close date, back to proposal (a re-entry: a second row)
    assert moves["D-2"] == [
        (
            "proposal",
            ts("2026-10-12 09:00"),
            ts("2026-10-30 16:00"),
            "lost",
            "close",
            "record_state",
        ),
        ("lost", ts("2026-10-30 16:00"), ts("2026-10-31 09:30"), "proposal", "back", "snapshot"),
        ("proposal", ts("2026-10-31 09:30"), None, None, None, "snapshot"),
    ]
    assert "D-3" not in moves  # gone from the export: no longer a record

    # stage_conversion counts the skip consistently: the meeting entry advanced, the skipped
    # proposal stage has no October entry of L-1 before its move back
    conv = dict(
        query(
            warehouse,
            "select stage, advanced from stage_conversion where cohort_month = '2026-10-01'",
        )
    )
    assert conv["meeting"] == 1  # L-1 (D-3 left the funnel)
    assert conv["negotiation"] == 0  # L-1 moved back from it

    # past days are what those days' runs saw: funnel_daily rows of day 1 and day 2 do not shift
    daily = "select day, stage, entered, in_stage from funnel_daily where day = '{}' order by stage"
    for day in (D1, D2):
        assert query(warehouse, daily.format(day)) == query(copies[day], daily.format(day)), day
    in_stage = dict(
        query(warehouse, f"select stage, in_stage from funnel_daily where day = '{D2}'")
    )
    assert (in_stage["meeting"], in_stage["negotiation"], in_stage["lost"]) == (1, 1, 2)

    # a re-run of the newest day over the same files appends nothing
    assert nightly(config_path=str(project / "funnel.toml"), as_of=D3).status == "published"
    assert query(
        state_file, "select snapshot_rows from state_loads order by load_seq desc limit 1"
    ) == [(0,)]
    before = published_tables(warehouse)

    summary = rebuild(config_path=str(project / "funnel.toml"))
    assert (summary.status, summary.as_of) == ("published", D3)
    after = published_tables(warehouse, skip_run=summary.run_id)
    assert after == before
    assert query(
        warehouse, f"select status, rows_read from pipeline_runs where run_id = '{summary.run_id}'"
    ) == [("published", 0)]
    with pytest.raises(ConfigError, match="before 2026-10-31"):
        rebuild(config_path=str(project / "funnel.toml"), as_of=D2)
