"""What several sections share: stage order, ranking windows, best-and-worst picks."""

from __future__ import annotations

from typing import Any

from transforms.schema import CLOSED_STAGES, STAGES

OPEN_STAGES = [s for s in STAGES if s not in CLOSED_STAGES]
#: owner and source rankings look at the trailing year.
RANK_WINDOW = "365d"
#: the window of stage_durations the report shows.
DURATION_WINDOW = "90d"
#: how many best and worst owners or sources to show.
TOP = 5


def stage_sort(stages: list[str]) -> list[str]:
    """The funnel's stages in funnel order, then any other stage alphabetically."""
    known = [s for s in STAGES if s in stages]
    return known + sorted(s for s in stages if s not in STAGES)


def best_and_worst(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """rows ranked best first: the top and the bottom TOP, each tagged with its group."""
    n = len(rows)
    ranked = list(enumerate(rows, start=1))
    picked = ranked if n <= 2 * TOP else ranked[:TOP] + ranked[-TOP:]
    return [
        {**r, "rank": rank, "group": "best" if rank <= (n + 1) // 2 else "worst"}
        for rank, r in picked
    ]
