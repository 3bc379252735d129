"""stage_transitions, funnel_daily and stage_conversion on a few records (as-of 2024-03-31)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from tests.sql.conftest import fetch, insert

AS_OF = date(2024, 3, 31)


@pytest.fixture
def funnel(con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]) -> None:
    insert(
        con,
        "raw_leads",
        [
            # converted: its opportunity O1 has a stage history with a move back
            {"lead_id": "L1", "created_at": datetime(2024, 1, 1, 8), "stage": "qualification"},
            # disqualified, no opportunity, no history: lost at its last update
            {"lead_id": "L2", "created_at": datetime(2024, 2, 1), "stage": "lost",
             "updated_at": datetime(2024, 2, 10)},
            # no stage at all: a prospect
            {"lead_id": "L3", "created_at": datetime(2024, 3, 1)},
        ],
    )  # fmt: skip
    insert(
        con,
        "raw_opportunities",
        [
            {"opportunity_id": "O1", "lead_id": "L1", "stage": "won", "amount": 5000.0,
             "created_at": datetime(2024, 1, 5), "closed_at": datetime(2024, 2, 20, 12)},
            # stands alone, no dates: in meeting, entry moment unknown
            {"opportunity_id": "O2", "stage": "meeting"},
        ],
    )  # fmt: skip
    insert(
        con,
        "raw_stage_history",
        [
            {"opportunity_id": "O1", "stage": stage, "entered_at": at}
            for stage, at in [
                ("qualification", datetime(2024, 1, 5)),
                ("meeting", datetime(2024, 1, 10)),
                ("qualification", datetime(2024, 1, 15)),  # back
                ("qualification", datetime(2024, 1, 16)),  # repeated: collapses
                ("proposal", datetime(2024, 1, 20)),
                ("won", datetime(2024, 2, 20, 12)),
            ]
        ],
    )
    build()


def transitions(con: duckdb.DuckDBPyConnection, record_id: str) -> list[tuple[Any, ...]]:
    rows = fetch(
        con,
        """
        select stage, entered_at, exited_at, next_stage, days_in_stage, is_current, direction,
               lead_id, opportunity_id, entry_source
        from stage_transitions where record_id = ? order by entered_at
        """,
        [record_id],
    )
    return [tuple(r.values()) for r in rows]


def in_stage(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, tuple[int, int]]:
    rows = fetch(con, "select stage, entered, in_stage from funnel_daily where day = ?", [day])
    return {
        r["stage"]: (r["entered"], r["in_stage"]) for r in rows if r["in_stage"] or r["entered"]
    }


@pytest.mark.usefixtures("funnel")
def test_history_with_a_move_back_and_a_repeated_stage(con: duckdb.DuckDBPyConnection) -> None:
    d = datetime
    assert transitions(con, "L1") == [
        ("prospecting", d(2024, 1, 1, 8), d(2024, 1, 5), "qualification",
         pytest.approx(3 + 16 / 24), False, "forward", "L1", None, "lead_created"),
        ("qualification", d(2024, 1, 5), d(2024, 1, 10), "meeting",
         5.0, False, "forward", "L1", "O1", "stage_history"),
        ("meeting", d(2024, 1, 10), d(2024, 1, 15), "qualification",
         5.0, False, "back", "L1", "O1", "stage_history"),
        ("qualification", d(2024, 1, 15), d(2024, 1, 20), "proposal",
         5.0, False, "forward", "L1", "O1", "stage_history"),
        ("proposal", d(2024, 1, 20), d(2024, 2, 20, 12), "won",
         31.5, False, "close", "L1", "O1", "stage_history"),
        ("won", d(2024, 2, 20, 12), None, None, None, True, None, "L1", "O1", "stage_history"),
    ]  # fmt: skip


@pytest.mark.usefixtures("funnel")
def test_records_without_history_get_entries_from_their_timestamps(
    con: duckdb.DuckDBPyConnection,
) -> None:
    d = datetime
    assert transitions(con, "L2") == [
        ("prospecting", d(2024, 2, 1), d(2024, 2, 10), "lost",
         9.0, False, "close", "L2", None, "lead_created"),
        ("lost", d(2024, 2, 10), None, None, None, True, None, "L2", None, "record_state"),
    ]  # fmt: skip
    assert transitions(con, "L3") == [
        ("prospecting", d(2024, 3, 1), None, None, None, True, None, "L3", None, "lead_created"),
    ]
    # O2's only entry has no known moment: it is left out (the grain includes entered_at)
    assert transitions(con, "O2") == []


@pytest.mark.usefixtures("funnel")
def test_funnel_daily_entered_and_in_stage(con: duckdb.DuckDBPyConnection) -> None:
    assert in_stage(con, date(2024, 1, 12)) == {"meeting": (0, 1)}
    assert in_stage(con, date(2024, 1, 15)) == {"qualification": (1, 1)}
    # the repeated entry on 01-16 is no new entry
    assert in_stage(con, date(2024, 1, 16)) == {"qualification": (0, 1)}
    assert in_stage(con, date(2024, 2, 9)) == {"proposal": (0, 1), "prospecting": (0, 1)}
    assert in_stage(con, date(2024, 2, 20)) == {"won": (1, 1), "lost": (0, 1)}
    # lost and won accumulate; O2 (meeting, moment unknown) only shows on the as-of day
    assert in_stage(con, date(2024, 3, 30)) == {
        "won": (0, 1),
        "lost": (0, 1),
        "prospecting": (0, 1),
    }
    assert in_stage(con, AS_OF) == {
        "won": (0, 1),
        "lost": (0, 1),
        "prospecting": (0, 1),
        "meeting": (0, 1),
    }
    first, last, rows = (
        con.execute("select min(day), max(day), count(*) from funnel_daily").fetchone() or ()
    )
    assert (first, last) == (date(2024, 1, 1), AS_OF)
    assert rows == 8 * ((AS_OF - first).days + 1)


@pytest.mark.usefixtures("funnel")
def test_stage_conversion_by_cohort_month(con: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(
        con,
        """
        select cohort_month, stage, entered, advanced, won, lost, conversion_rate,
               avg_days_in_stage
        from stage_conversion order by cohort_month, stage_order
        """,
    )
    jan, feb, mar = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
    assert [tuple(r.values()) for r in rows] == [
        (jan, "prospecting", 1, 1, 1, 0, 1.0, pytest.approx(3 + 16 / 24)),
        # entered twice in January (5 and 5 days), counted once
        (jan, "qualification", 1, 1, 1, 0, 1.0, 5.0),
        # moved back to qualification, but later reached proposal and won
        (jan, "meeting", 1, 1, 1, 0, 1.0, 5.0),
        (jan, "proposal", 1, 1, 1, 0, 1.0, 31.5),
        # L2 went from prospecting to lost: not an advance
        (feb, "prospecting", 1, 0, 0, 1, 0.0, 9.0),
        (feb, "won", 1, 0, 1, 0, 0.0, None),
        (feb, "lost", 1, 0, 0, 1, 0.0, None),
        (mar, "prospecting", 1, 0, 0, 0, 0.0, None),
    ]


def test_history_that_lags_behind_the_current_stage(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    insert(
        con,
        "raw_opportunities",
        [
            # won after its last history row: the win is added at closed_at
            {"opportunity_id": "A", "stage": "won", "created_at": datetime(2024, 2, 20),
             "closed_at": datetime(2024, 3, 10)},
            # lost "before" its last history row: the loss has no known moment
            {"opportunity_id": "B", "stage": "lost", "created_at": datetime(2024, 1, 10),
             "closed_at": datetime(2024, 2, 1)},
        ],
    )  # fmt: skip
    insert(
        con,
        "raw_stage_history",
        [
            {"opportunity_id": "A", "stage": "meeting", "entered_at": datetime(2024, 3, 1)},
            {"opportunity_id": "B", "stage": "meeting", "entered_at": datetime(2024, 3, 1)},
        ],
    )
    build()
    d = datetime
    assert transitions(con, "A") == [
        ("meeting", d(2024, 3, 1), d(2024, 3, 10), "won",
         9.0, False, "close", None, "A", "stage_history"),
        ("won", d(2024, 3, 10), None, None, None, True, None, None, "A", "record_state"),
    ]  # fmt: skip
    assert transitions(con, "B") == [
        ("meeting", d(2024, 3, 1), None, "lost", None, False, "close", None, "B", "stage_history"),
    ]
    assert in_stage(con, date(2024, 3, 30)) == {"won": (0, 1), "meeting": (0, 1)}
    assert in_stage(con, AS_OF) == {"won": (0, 1), "lost": (0, 1)}
