"""The value a unique check compares for entities keyed by several fields (targets, rates)."""

from __future__ import annotations

import polars as pl

from funnel.quality.checks import unique_key
from transforms.schema import ENTITIES


def test_a_blank_owner_and_team_is_part_of_a_targets_key() -> None:
    frame = pl.DataFrame(
        {
            "period_kind": ["quarter", "quarter", "quarter", "quarter"],
            "period_start": ["2026-10-01"] * 4,
            "owner": [None, None, "Ana", None],
            "team": [None, None, None, "East"],
        }
    )
    keys = frame.select(unique_key(ENTITIES["targets"])).to_series().to_list()
    # two company targets for one quarter share a key (the unique check fails both); the
    # owner's and the team's differ from it and from each other
    assert keys[0] == keys[1]
    assert len({keys[0], keys[2], keys[3]}) == 3
    assert None not in keys


def test_a_blank_required_field_leaves_the_key_null() -> None:
    frame = pl.DataFrame({"currency": ["USD", None], "rate_date": ["2026-10-01", "2026-10-01"]})
    keys = frame.select(unique_key(ENTITIES["exchange_rates"])).to_series().to_list()
    assert keys == ["USD\x1f2026-10-01", None]
