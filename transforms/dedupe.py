"""Deduplicate one source's rows by id, keeping the latest. Polars in, polars out."""

from __future__ import annotations

import polars as pl

from funnel.schema import Entity


def dedupe_key(entity: Entity) -> list[str]:
    """The columns that identify one record of the entity within a source."""
    if entity.id_field is not None:
        return [entity.id_field]
    return ["opportunity_id", "lead_id", "stage", "entered_at"]


def dedupe(frame: pl.DataFrame, entity: Entity) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split rows into (kept, superseded).

    Per key the row with the latest `updated_at` wins (rows without one lose to rows with one);
    on a tie the later line of the file wins. Rows with a blank id are all kept: the quality
    checks reject them with that reason. `superseded` holds `_rid` and `winner_line`.
    """
    key = dedupe_key(entity)
    if entity.id_field is not None:
        has_key = pl.col(entity.id_field).is_not_null()
    else:
        has_key = pl.col("stage").is_not_null() & pl.col("entered_at").is_not_null()
    order = ["updated_at", "_line"] if "updated_at" in frame.columns else ["_line"]
    ranked = frame.sort(order, descending=True, nulls_last=True).with_columns(
        (pl.struct(key).is_first_distinct() | ~has_key).alias("_keep")
    )
    winners = ranked.filter(pl.col("_keep")).drop("_keep").sort("_rid")
    winner_line = winners.filter(has_key).select(*key, pl.col("_line").alias("winner_line"))
    superseded = (
        ranked.filter(~pl.col("_keep"))
        .join(winner_line, on=key, how="left", nulls_equal=True)
        .select("_rid", "winner_line")
        .sort("_rid")
    )
    return winners, superseded
