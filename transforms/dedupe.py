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
    # Only rows whose key comes more than once can lose. Find them by the key's hash (sorted,
    # equal neighbours: far cheaper than hashing the text into a table), a superset when two
    # keys' hashes collide, then rank just those rows (a few thousand) instead of the whole
    # source. A row without a key never shares it with a row that has one (`_has` reads key
    # columns only), so rows without one are all kept.
    hashes = frame.select((pl.col(key[0]) if len(key) == 1 else pl.struct(key)).hash()).to_series()
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    ranked = (
        frame.filter(has_key & pl.lit(hashes.is_in(repeated.implode())))
        .select("_rid", *key, *(c for c in order if c not in key))
        .sort(order, descending=True, nulls_last=True, maintain_order=True)
        .with_columns(pl.struct(key).is_first_distinct().alias("_keep"))
    )
    losers = ranked.filter(~pl.col("_keep"))
    if losers.is_empty():
        return frame, pl.DataFrame(schema={"_rid": pl.Int64, "winner_line": pl.Int64})
    winners = frame.filter(~pl.col("_rid").is_in(losers.get_column("_rid").implode()))
    winner_line = ranked.filter(pl.col("_keep")).select(*key, pl.col("_line").alias("winner_line"))
    superseded = (
        losers.join(winner_line, on=key, how="left", nulls_equal=True)
        .select("_rid", "winner_line")
        .sort("_rid")
    )
    return winners, superseded
