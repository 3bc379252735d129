"""Issue 19 item 4 acceptance: an export with only deal id, stage and amount (no dates at all),
run on three nights with the file changed in between (moves forward, forward to won, back), gets
its history from the pipeline's own snapshots: entries on the day each record was first seen,
closes on the day they were seen, a funnel_daily row for every night; a rebuild gives the same
tables. Figures hand-computed below."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from flows.nightly import nightly
from flows.rebuild import rebuild
from tests.integration.ops_helpers import published_tables, query

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

D1, D2, D3 = date(2026, 10, 29), date(2026, 10, 30), date(2026, 10, 31)

CONFIG = """
[warehouse]
path = "warehouse/funnel.duckdb"
timezone = "UTC"

[[sources]]
name = "crm_deals"
entity = "opportunities"
path = "export/deals.csv"
[sources.columns]
opportunity_id = "Deal ID"
stage = "Stage"
amount = "Amount"
[sources.stages]
"Discovery" = "meeting"
"Proposal" = "proposal"
"Negotiation" = "negotiation"
"Closed Won" = "won"
"Closed Lost" = "lost"
"""

NIGHTS = {
    D1: [
        ("D-1", "Discovery", "1000"),
        ("D-2", "Proposal", "2000"),
        ("D-3", "Negotiation", "3000"),
        ("D-5", "Proposal", "500"),
    ],
    # D-1 forward (meeting -> proposal), D-3 forward to won
    D2: [
        ("D-1", "Proposal", "1000"),
        ("D-2", "Proposal", "2000"),
        ("D-3", "Closed Won", "3000"),
        ("D-5", "Proposal", "500"),
    ],
    # D-2 back (proposal -> meeting), D-5 lost, D-4 new
    D3: [
        ("D-1", "Proposal", "1000"),
        ("D-2", "Discovery", "2000"),
        ("D-3", "Closed Won", "3000"),
        ("D-4", "Discovery", "700"),
        ("D-5", "Closed Lost", "500"),
    ],
}


def _write(root: Path, rows: list[tuple[str, str, str]]) -> Path:
    (root / "export").mkdir(parents=True, exist_ok=True)
    lines = ["Deal ID,Stage,Amount", *(",".join(r) for r in rows)]
    (root / "export" / "deals.csv").write_text("\n".join(lines) + "\n")
    config = root / "funnel.toml"
    config.write_text(CONFIG)
    return config


def at(day: date) -> datetime:
    """The start of a day: when the pipeline first saw a state on that night."""
    return datetime(day.year, day.month, day.day)


def test_an_export_without_dates_gets_its_history_night_by_night(tmp_path: Path) -> None:
    project = tmp_path / "project"
    warehouse = project / "warehouse" / "funnel.duckdb"
    copies = {}
    for day, rows in NIGHTS.items():
        config = _write(project, rows)
        assert nightly(config_path=str(config), as_of=day).status == "published"
        copies[day] = tmp_path / f"{day}.duckdb"
        shutil.copy(warehouse, copies[day])

    # every entry dated: first seen at the start of the first night, moves at the night seen
    assert query(
        warehouse,
        "select record_id, stage, entered_at, exited_at, next_stage, direction, entry_source"
        " from stage_transitions order by record_id, entered_at",
    ) == [
        ("D-1", "meeting", at(D1), at(D2), "proposal", "forward", "first_seen"),
        ("D-1", "proposal", at(D2), None, None, None, "snapshot"),
        ("D-2", "proposal", at(D1), at(D3), "meeting", "back", "first_seen"),
        ("D-2", "meeting", at(D3), None, None, None, "snapshot"),
        ("D-3", "negotiation", at(D1), at(D2), "won", "close", "first_seen"),
        ("D-3", "won", at(D2), None, None, None, "snapshot"),
        ("D-4", "meeting", at(D3), None, None, None, "first_seen"),
        ("D-5", "proposal", at(D1), at(D3), "lost", "close", "first_seen"),
        ("D-5", "lost", at(D3), None, None, None, "snapshot"),
    ]

    # closed on the night the close was seen, the date from the snapshots
    assert query(
        warehouse,
        "select opportunity_id, stage, closed_at, closed_at_source, cycle_days from opportunities"
        " where not is_open order by 1",
    ) == [("D-3", "won", at(D2), "snapshot", None), ("D-5", "lost", at(D3), "snapshot", None)]

    # a row for every night (and only those), every stage; the non-zero ones:
    assert query(warehouse, "select min(day), max(day), count(*) from funnel_daily") == [
        (D1, D3, 3 * 8)
    ]
    assert query(
        warehouse,
        "select day, stage, entered, in_stage from funnel_daily"
        " where entered > 0 or in_stage > 0 order by day, stage_order",
    ) == [
        (D1, "meeting", 1, 1),  # D-1
        (D1, "proposal", 2, 2),  # D-2, D-5
        (D1, "negotiation", 1, 1),  # D-3
        (D2, "proposal", 1, 3),  # D-1 entered; D-1, D-2, D-5 in it
        (D2, "won", 1, 1),  # D-3
        (D3, "meeting", 2, 2),  # D-2 back, D-4 new
        (D3, "proposal", 0, 1),  # D-1
        (D3, "won", 0, 1),  # D-3, won accumulates
        (D3, "lost", 1, 1),  # D-5
    ]

    # won and lost on the nights seen; open from the night first seen (no created date)
    assert query(
        warehouse,
        "select day, won, lost, win_rate, won_amount, avg_deal_size, avg_cycle_days, open_count,"
        " open_amount from funnel_metrics_daily where trailing_window = '30d' order by day",
    ) == [
        (D1, 0, 0, None, 0.0, None, None, 4, 6500.0),
        (D2, 1, 0, 1.0, 3000.0, 3000.0, None, 3, 3500.0),  # D-1, D-2, D-5 open
        (D3, 1, 1, 0.5, 3000.0, 3000.0, None, 3, 3700.0),  # D-1, D-2, D-4 open
    ]

    # past nights do not shift: each night's rows as that night's run published them (open_basis
    # excepted: a night's own row is 'current', later runs read the same values from its snapshot)
    tables = {"funnel_daily": "*", "funnel_metrics_daily": "* exclude (open_basis)"}
    for day in (D1, D2):
        for table, columns in tables.items():
            sql = f"select {columns} from {table} where day = '{day}'"
            assert sorted(query(warehouse, sql), key=repr) == sorted(
                query(copies[day], sql), key=repr
            ), (table, day)

    # a rebuild from the stored state gives the same tables
    before = published_tables(warehouse)
    summary = rebuild(config_path=str(project / "funnel.toml"))
    assert (summary.status, summary.as_of) == ("published", D3)
    assert published_tables(warehouse, skip_run=summary.run_id) == before
