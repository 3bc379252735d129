"""stage_durations and stage_bottlenecks_weekly on four hand-made records (as-of 2024-03-31).

O1 skips qualification, O2 moves back and is lost, O3 is lost and reopened, O4 is stuck in
prospecting since December. 2024-03-01 is a Friday: the weeks start on 02-26, 03-04, 03-11, ...
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from tests.sql.conftest import fetch, insert

AS_OF = date(2024, 3, 31)

HISTORY: dict[str, list[tuple[str, datetime]]] = {
    # skipped stage: prospecting -> meeting -> proposal -> won
    "O1": [
        ("prospecting", datetime(2024, 3, 1)),
        ("meeting", datetime(2024, 3, 3)),
        ("proposal", datetime(2024, 3, 7)),
        ("won", datetime(2024, 3, 11)),
    ],
    # a move back: meeting -> prospecting, then meeting again and lost
    "O2": [
        ("prospecting", datetime(2024, 3, 1)),
        ("meeting", datetime(2024, 3, 2)),
        ("prospecting", datetime(2024, 3, 5)),
        ("meeting", datetime(2024, 3, 10)),
        ("lost", datetime(2024, 3, 20)),
    ],
    # a reopened lost deal: lost from meeting, back to meeting a week later, now in proposal
    "O3": [
        ("meeting", datetime(2024, 3, 4)),
        ("lost", datetime(2024, 3, 6)),
        ("meeting", datetime(2024, 3, 13)),
        ("proposal", datetime(2024, 3, 18)),
    ],
    # stuck in prospecting since 2023-12-01 (121 days before the as-of day)
    "O4": [("prospecting", datetime(2023, 12, 1))],
}

OPPORTUNITIES: list[dict[str, Any]] = [
    {"opportunity_id": "O1", "stage": "won", "created_at": datetime(2024, 3, 1),
     "closed_at": datetime(2024, 3, 11)},
    {"opportunity_id": "O2", "stage": "lost", "created_at": datetime(2024, 3, 1),
     "closed_at": datetime(2024, 3, 20)},
    {"opportunity_id": "O3", "stage": "proposal", "created_at": datetime(2024, 3, 4)},
    {"opportunity_id": "O4", "stage": "prospecting", "created_at": datetime(2023, 12, 1)},
]  # fmt: skip


@pytest.fixture
def stages(con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]) -> None:
    insert(con, "raw_opportunities", OPPORTUNITIES)
    insert(
        con,
        "raw_stage_history",
        [
            {"opportunity_id": opp, "stage": stage, "entered_at": at}
            for opp, rows in HISTORY.items()
            for stage, at in rows
        ],
    )
    build()


def durations(con: duckdb.DuckDBPyConnection, window: str) -> dict[str, dict[str, Any]]:
    rows = fetch(con, "select * from stage_durations where trailing_window = ?", [window])
    return {r.pop("stage"): r for r in rows}


@pytest.mark.usefixtures("stages")
def test_time_in_stage_over_the_exits(con: duckdb.DuckDBPyConnection) -> None:
    rows = durations(con, "all")
    got = {
        stage: (
            r["exited"],
            r["avg_days_in_stage"],
            r["median_days_in_stage"],
            r["exited_forward"],
            r["exited_back"],
            r["exited_to_won"],
            r["exited_to_lost"],
            r["lost_share"],
        )
        for stage, r in rows.items()
    }
    assert got == {
        # O1 2 days, O2 1 and 5 days, all forward (O1 skipped qualification)
        "prospecting": (3, pytest.approx(8 / 3), 2.0, 3, 0, 0, 0, 0.0),
        "qualification": (0, None, None, 0, 0, 0, 0, None),
        # O1 4 (forward), O2 3 (back) and 10 (lost), O3 2 (lost) and 5 (forward)
        "meeting": (5, pytest.approx(4.8), 4.0, 2, 1, 0, 2, 0.4),
        "proposal": (1, 4.0, 4.0, 0, 0, 1, 0, 0.0),
        "negotiation": (0, None, None, 0, 0, 0, 0, None),
        "won": (0, None, None, 0, 0, 0, 0, None),
        # O3 reopened after 7 days: an exit of lost, backwards
        "lost": (1, 7.0, 7.0, 0, 1, 0, 0, 0.0),
        "post_sale": (0, None, None, 0, 0, 0, 0, None),
    }
    assert all(r["day"] == AS_OF for r in rows.values())


@pytest.mark.usefixtures("stages")
def test_drop_off_per_stage(con: duckdb.DuckDBPyConnection) -> None:
    rows = durations(con, "all")
    got = {
        stage: (
            r["entered"],
            r["dropped"],
            r["dropped_lost"],
            r["dropped_open"],
            r["drop_off_rate"],
            r["still_in_stage"],
            r["median_open_age_days"],
        )
        for stage, r in rows.items()
    }
    assert got == {
        # O4 never advanced and still sits there: 122 days at the end of the as-of day
        "prospecting": (4, 1, 0, 1, 0.25, 1, 122.0),
        "qualification": (0, 0, 0, 0, None, 0, None),
        # O2's two meeting entries never led further (it went back, then was lost); O3's first
        # meeting entry counts as advanced: the reopened deal reached proposal later
        "meeting": (5, 2, 2, 0, 0.4, 0, None),
        # O1 was won from proposal; O3 has been in proposal for 14 days
        "proposal": (2, 1, 0, 1, 0.5, 1, 14.0),
        "negotiation": (0, 0, 0, 0, None, 0, None),
        "won": (1, None, None, None, None, None, None),
        "lost": (2, None, None, None, None, None, None),
        "post_sale": (0, None, None, None, None, None, None),
    }


@pytest.mark.usefixtures("stages")
def test_windows_count_entries_and_exits_by_their_own_day(con: duckdb.DuckDBPyConnection) -> None:
    def prospecting(window: str) -> tuple[Any, ...]:
        r = durations(con, window)["prospecting"]
        return r["entered"], r["dropped"], r["exited"]

    # 30d starts 03-02: O1's and O2's first entries (03-01) are out, their exits (03-03, 03-02)
    # are in; O4 (2023-12-01) is only in 365d and all
    assert prospecting("30d") == (1, 0, 3)
    assert prospecting("90d") == (3, 0, 3)
    assert prospecting("365d") == (4, 1, 3)


@pytest.mark.usefixtures("stages")
def test_weekly_bottlenecks(con: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(con, "select * from stage_bottlenecks_weekly order by week")
    assert rows[0]["week"] == date(2023, 11, 27)  # the week of O4's entry
    assert len(rows) == 18  # to the week of the as-of day, 2024-03-25
    got = {
        r["week"]: (
            r["exits"],
            r["lost_exits"],
            r["stall_stage"],
            r["stall_median_days"],
            r["stall_exits"],
            r["loss_stage"],
            r["loss_exits"],
            r["loss_share"],
        )
        for r in rows[-5:]
    }
    assert got == {
        # O2 (1 day) and O1 (2 days) left prospecting
        date(2024, 2, 26): (2, 0, "prospecting", 1.5, 2, None, None, None),
        # meeting exits of 3 (O2 back), 2 (O3 lost) and 4 days (O1); O2 left prospecting after 5
        date(2024, 3, 4): (4, 1, "prospecting", 5.0, 1, "meeting", 1, pytest.approx(1 / 3)),
        # O1 won from proposal; O3's reopening is an exit of lost, not of an open stage
        date(2024, 3, 11): (1, 0, "proposal", 4.0, 1, None, None, None),
        # O3 left meeting after 5 days, O2 was lost from it after 10
        date(2024, 3, 18): (2, 1, "meeting", 7.5, 2, "meeting", 1, 0.5),
        date(2024, 3, 25): (0, 0, None, None, None, None, None, None),
    }
    assert rows[-1]["week_end"] == AS_OF and rows[-1]["is_complete"]
    assert rows[0]["exits"] == 0 and rows[0]["stall_stage"] is None


def test_weekly_ties_go_to_more_exits_then_the_earlier_stage(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    # all in the week of 2024-03-04: qualification and proposal both stall a median 2 days, but
    # proposal has two exits, so it stalls; both lose one deal, but qualification loses a
    # higher share (1 of 1 against 1 of 2), so it loses most
    history = {
        "A": [("qualification", datetime(2024, 3, 4)), ("lost", datetime(2024, 3, 6))],
        "B": [("proposal", datetime(2024, 3, 4)), ("lost", datetime(2024, 3, 6))],
        "C": [("proposal", datetime(2024, 3, 5)), ("won", datetime(2024, 3, 7))],
    }
    insert(
        con,
        "raw_opportunities",
        [
            {"opportunity_id": "A", "stage": "lost", "created_at": datetime(2024, 3, 4),
             "closed_at": datetime(2024, 3, 6)},
            {"opportunity_id": "B", "stage": "lost", "created_at": datetime(2024, 3, 4),
             "closed_at": datetime(2024, 3, 6)},
            {"opportunity_id": "C", "stage": "won", "created_at": datetime(2024, 3, 5),
             "closed_at": datetime(2024, 3, 7)},
        ],
    )  # fmt: skip
    insert(
        con,
        "raw_stage_history",
        [
            {"opportunity_id": o, "stage": s, "entered_at": at}
            for o, rows in history.items()
            for s, at in rows
        ],
    )
    build()
    (week,) = fetch(con, "select * from stage_bottlenecks_weekly where week = '2024-03-04'")
    assert (week["stall_stage"], week["stall_exits"], week["stall_median_days"]) == (
        "proposal",
        2,
        2.0,
    )
    assert (week["loss_stage"], week["loss_exits"], week["loss_share"]) == ("qualification", 1, 1.0)
