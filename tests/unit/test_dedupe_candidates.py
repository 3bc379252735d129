"""dedupe ranks only the rows whose key repeats: it must keep and supersede exactly the rows that
ranking every row of the source (the straightforward way, kept here as the reference) does."""

from __future__ import annotations

import random
from datetime import datetime

import polars as pl
import pytest

from transforms.dedupe import dedupe, dedupe_key
from transforms.schema import LEADS, STAGE_HISTORY, Entity


def reference(frame: pl.DataFrame, entity: Entity) -> tuple[list[int], list[tuple[int, int]]]:
    """Sort every row by (updated_at, line) newest first; the first row of each key wins."""
    key = dedupe_key(entity)
    order = ["updated_at", "_line"] if "updated_at" in frame.columns else ["_line"]
    ranked = frame.sort(order, descending=True, nulls_last=True, maintain_order=True)
    winner: dict[tuple[object, ...], int] = {}
    lost: list[tuple[int, tuple[object, ...]]] = []
    for row in ranked.iter_rows(named=True):
        k = tuple(row[c] for c in key)
        has = row[entity.id_field] is not None if entity.id_field else None not in k[2:]
        if not has:
            continue
        if k in winner:
            lost.append((row["_rid"], k))
        else:
            winner[k] = row["_line"]
    losers = {rid for rid, _ in lost}
    kept = [r for r in frame.get_column("_rid").to_list() if r not in losers]
    return kept, sorted((rid, winner[k]) for rid, k in lost)


def _frame(entity: Entity, rows: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    ids = ["a", "b", "c", "d", None]
    stamps = [datetime(2024, 1, d) for d in (1, 2, 3)] + [None]
    data: dict[str, list[object]] = {
        "_rid": list(range(rows)),
        "_line": [2 + i for i in range(rows)],
    }
    if entity is LEADS:
        data["lead_id"] = [rng.choice(ids) for _ in range(rows)]
        data["updated_at"] = [rng.choice(stamps) for _ in range(rows)]
    else:
        data["opportunity_id"] = [rng.choice(ids) for _ in range(rows)]
        data["lead_id"] = [rng.choice([None, "l1"]) for _ in range(rows)]
        data["stage"] = [rng.choice(["won", "lost", None]) for _ in range(rows)]
        data["entered_at"] = [rng.choice(stamps) for _ in range(rows)]
    return pl.DataFrame(data)


@pytest.mark.parametrize("entity", [LEADS, STAGE_HISTORY], ids=lambda e: e.name)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_repeated_keys_blank_keys_and_ties_resolve_as_ranking_every_row(
    entity: Entity, seed: int
) -> None:
    frame = _frame(entity, 300, seed)
    kept, superseded = dedupe(frame, entity)
    want_kept, want_superseded = reference(frame, entity)
    assert kept.get_column("_rid").to_list() == want_kept
    assert superseded.rows() == want_superseded
    assert kept.columns == frame.columns


def test_no_repeated_key_keeps_every_row() -> None:
    frame = pl.DataFrame(
        {"_rid": [0, 1, 2], "_line": [2, 3, 4], "lead_id": ["a", None, None], "updated_at": None}
    )
    kept, superseded = dedupe(frame, LEADS)
    assert kept.get_column("_rid").to_list() == [0, 1, 2]
    assert superseded.is_empty()
    assert superseded.schema == pl.Schema({"_rid": pl.Int64, "winner_line": pl.Int64})
