"""Watermarks and incremental upserts in the state file (DuckDB, no flow)."""

from __future__ import annotations

from pathlib import Path

from funnel import state


def test_watermark_is_kept_per_source_and_reset_when_the_source_changes(tmp_path: Path) -> None:
    with state.open_state(tmp_path / "s.duckdb") as con:
        state.set_watermark(con, "r1", "deals", "opportunities", "hubspot_api", "2026-01-01")
        # no rows loaded for the source: a full pull is due
        assert state.get_watermark(con, "deals", "opportunities", "hubspot_api") is None
        con.execute(
            "insert into raw_opportunities (opportunity_id, stage, source_system)"
            " values ('1', 'won', 'deals')"
        )
        assert state.get_watermark(con, "deals", "opportunities", "hubspot_api") == "2026-01-01"
        # another format or entity under the same name starts over
        assert state.get_watermark(con, "deals", "opportunities", "pipedrive_api") is None
        assert state.get_watermark(con, "deals", "stage_history", "hubspot_api") is None
        state.set_watermark(con, "r2", "deals", "opportunities", "hubspot_api", "2026-02-01")
        assert state.get_watermark(con, "deals", "opportunities", "hubspot_api") == "2026-02-01"
        assert con.execute("select count(*), max(run_id) from state_watermarks").fetchone() == (
            1,
            "r2",
        )


def test_upsert_key_of_stage_history_is_its_record() -> None:
    assert state.upsert_key("opportunities") == "opportunity_id"
    assert state.upsert_key("leads") == "lead_id"
    assert state.upsert_key("stage_history") == "coalesce(opportunity_id, lead_id)"
