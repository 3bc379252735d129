"""A state file written before issue 23 (no forecast_category in raw_opportunities or
state_snapshots, no targets or owners tables) opens, gains the columns and tables, and its next
load snapshots only the deals whose forecast category is set."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from funnel import snapshots
from funnel.state import open_state

OLD_DDL = (
    """create table raw_opportunities (
        opportunity_id varchar, stage varchar, lead_id varchar, account varchar, owner varchar,
        amount double, currency varchar, created_at timestamp, expected_close_date date,
        closed_at timestamp, probability double, lost_reason varchar, pipeline varchar,
        updated_at timestamp, stage_label varchar, source_system varchar, source_file varchar,
        source_line bigint, run_id varchar)""",
    """create table state_loads (
        load_seq integer primary key, run_id varchar, as_of date, loaded_at timestamp,
        snapshot_rows bigint)""",
    """create table state_snapshots (
        kind varchar, id varchar, as_of date, load_seq integer, run_id varchar,
        present boolean, stage varchar, lead_id varchar, owner varchar, amount double,
        probability double, expected_close_date date, is_open boolean, created_at timestamp,
        closed_at timestamp, updated_at timestamp)""",
)


def test_an_old_state_file_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "funnel.state.duckdb"
    with duckdb.connect(str(path)) as con:
        for ddl in OLD_DDL:
            con.execute(ddl)
        con.execute(
            "insert into raw_opportunities (opportunity_id, stage, amount) values"
            " ('O1', 'proposal', 10), ('O2', 'meeting', 20)"
        )
        # the last run before the upgrade saw both as they are
        con.execute("insert into state_loads values (1, 'r0', '2026-09-30', null, 2)")
        con.execute(
            "insert into state_snapshots (kind, id, as_of, load_seq, run_id, present, stage,"
            " amount, is_open) values"
            " ('opportunity', 'O1', '2026-09-30', 1, 'r0', true, 'proposal', 10, true),"
            " ('opportunity', 'O2', '2026-09-30', 1, 'r0', true, 'meeting', 20, true)"
        )

    with open_state(path) as con:
        assert snapshots.record_load(con, "r1", date(2026, 10, 1)) == 0  # nothing changed
        # after the upgrade: a category on O1 only snapshots O1 again
        con.execute(
            "update raw_opportunities set forecast_category = 'Commit' where opportunity_id = 'O1'"
        )
        assert snapshots.record_load(con, "r2", date(2026, 10, 2)) == 1
        rows = con.execute(
            "select id, as_of, forecast_category from state_snapshots order by as_of, id"
        ).fetchall()
        tables = {r[0] for r in con.execute("show tables").fetchall()}
    assert rows == [
        ("O1", date(2026, 9, 30), None),
        ("O2", date(2026, 9, 30), None),
        ("O1", date(2026, 10, 2), "Commit"),
    ]
    assert {"raw_targets", "raw_owners"} <= tables
