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
    # Rank only the columns the decision needs; the wide frame is filtered once, in its order.
    ranked = (
        frame.select("_rid", *key, *(c for c in order if c not in key), has_key.alias("_has"))
        .sort(order, descending=True, nulls_last=True)
        .with_columns((pl.struct(key).is_first_distinct() | ~pl.col("_has")).alias("_keep"))
    )
    losers = ranked.filter(~pl.col("_keep"))
    if losers.is_empty():
        return frame, pl.DataFrame(schema={"_rid": pl.Int64, "winner_line": pl.Int64})
    winners = frame.filter(~pl.col("_rid").is_in(losers.get_column("_rid").implode()))
    winner_line = (
        ranked.filter(pl.col("_keep") & pl.col("_has"))
        .join(losers.select(key).unique(), on=key, nulls_equal=True)
        .select(*key, pl.col("_line").alias("winner_line"))
    )
    superseded = (
        losers.join(winner_line, on=key, how="left", nulls_equal=True)
        .select("_rid", "winner_line")
        .sort("_rid")
    )
    return winners, superseded
