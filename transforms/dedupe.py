"""Deduplicate one source's rows by id, keeping the latest. Polars in, polars out."""

from __future__ import annotations

import polars as pl

from transforms.schema import Entity


def dedupe_key(entity: Entity) -> list[str]:
    """The columns that identify one record of the entity within a source."""
    if entity.id_field is not None:
        return [entity.id_field]
    if entity.unique_key:
        return list(entity.unique_key)
    return ["opportunity_id", "lead_id", "stage", "entered_at"]


def dedupe(frame: pl.DataFrame, entity: Entity) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split rows into (kept, superseded): see `superseded_rows`."""
    superseded = superseded_rows(frame, entity)
    if superseded.is_empty():
        return frame, superseded
    return frame.filter(~pl.col("_rid").is_in(superseded.get_column("_rid").implode())), superseded


def superseded_rows(frame: pl.DataFrame, entity: Entity) -> pl.DataFrame:
    """The older copies of an id that a newer row replaces: `_rid` and `winner_line`.

    Per key the row with the latest `updated_at` wins (rows without one lose to rows with one);
    on a tie the later line of the file wins. Rows with a blank id are all kept: the quality
    checks reject them with that reason.
    """
    key = dedupe_key(entity)
    if entity.id_field is not None:
        has_key = pl.col(entity.id_field).is_not_null()
    elif entity.unique_key:
        has_key = pl.all_horizontal(pl.col(f).is_not_null() for f in entity.unique_key)
    else:
        has_key = pl.col("stage").is_not_null() & pl.col("entered_at").is_not_null()
    order = ["updated_at", "_line"] if "updated_at" in frame.columns else ["_line"]
    # Only rows whose key comes more than once can lose. Find them by the key's hash (sorted,
    # equal neighbours: far cheaper than hashing the text into a table), a superset when two
    # keys' hashes collide, then rank just those rows (a few thousand) instead of the whole
    # source. A row without a key never shares it with a row that has one (`_has` reads key
    # columns only), so rows without one are all kept.
    # The hash is an expression of the rows' own columns, not a Series beside them: a Series
    # lined up with rows stacked from slices makes polars copy every column into one piece.
    hashed = (pl.col(key[0]) if len(key) == 1 else pl.struct(key)).hash()
    picked = frame.select("_rid", *key, *(c for c in order if c not in key))
    ordered = picked.select(hashed).to_series().sort()
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    ranked = (
        picked.filter(has_key & hashed.is_in(repeated.implode()))
        .sort(order, descending=True, nulls_last=True, maintain_order=True)
        .with_columns(pl.struct(key).is_first_distinct().alias("_keep"))
    )
    losers = ranked.filter(~pl.col("_keep"))
    if losers.is_empty():
        return pl.DataFrame(schema={"_rid": pl.Int64, "winner_line": pl.Int64})
    winner_line = ranked.filter(pl.col("_keep")).select(*key, pl.col("_line").alias("winner_line"))
    return (
        losers.join(winner_line, on=key, how="left", nulls_equal=True)
        .select("_rid", "winner_line")
        .sort("_rid")
    )
