"""Ids are normalised before uniqueness is judged (transforms.clean.normalise_id)."""

from __future__ import annotations

import polars as pl

from transforms.clean import normalise_id


def test_lookalikes_become_one_id() -> None:
    s = pl.Series(
        "lead_id",
        [
            "LD-00000001",
            "LD-00000001\x00",
            "LD-00000001\u200b",
            "\ufeffLD-00000001\u200d",
            "LD-\u00a000000001",  # an inner no-break space is part of the id, not trimmed
            "Cafe\u0301",  # decomposed: e + combining accent
            "\u200b",
            None,
        ],
    )
    assert normalise_id(s).to_list() == [
        "LD-00000001",
        "LD-00000001",
        "LD-00000001",
        "LD-00000001",
        "LD-\u00a000000001",
        "Caf\u00e9",
        None,
        None,
    ]


def test_plain_ids_are_returned_as_they_are() -> None:
    s = pl.Series("lead_id", [f"LD-{i:08d}" for i in range(1000)] + [None])
    assert normalise_id(s) is s  # nothing to normalise: no copy
