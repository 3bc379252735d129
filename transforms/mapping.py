"""From a source's own columns to canonical field names, as text. Polars in, polars out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from transforms.schema import Entity

#: Lineage columns the extract step adds to every frame: row id, file and line.
LINEAGE = ("_rid", "_file", "_line")
#: Columns kept when the extract has them: a file source's row hash (funnel.incremental),
#: stored with each loaded row.
CARRIED = ("_hash",)


@dataclass(frozen=True)
class Mapped:
    """Canonical text columns (plus lineage), and what could not be mapped."""

    frame: pl.DataFrame
    #: Mapped columns that the file lacks: a wrong config (exit 2).
    absent_columns: tuple[str, ...]
    #: Required fields that no column or constant provides: a blocking quality gate (exit 3).
    missing_required: tuple[str, ...]


def _find(header: list[str], name: str) -> str | None:
    """A file column by exact name, else ignoring case and surrounding space."""
    if name in header:
        return name
    folded = {h.strip().casefold(): h for h in header}
    return folded.get(name.strip().casefold())


def to_canonical(
    frame: pl.DataFrame,
    entity: Entity,
    columns: Mapping[str, str],
    constants: Mapping[str, object],
) -> Mapped:
    """Select and rename the source's columns to the entity's canonical fields.

    A field comes from its `columns` mapping, else a `constants` value, else a file column
    spelled like the field itself; otherwise it is null.
    """
    header = [c for c in frame.columns if c not in LINEAGE]
    exprs: list[pl.Expr] = []
    absent: list[str] = []
    provided: set[str] = set()
    for field in entity.fields:
        if field in columns:
            col = _find(header, columns[field])
            if col is None:
                absent.append(columns[field])
                exprs.append(pl.lit(None, dtype=pl.String).alias(field))
                continue
            exprs.append(pl.col(col).cast(pl.String).alias(field))
        elif field in constants:
            exprs.append(pl.lit(str(constants[field]), dtype=pl.String).alias(field))
        elif (col := _find(header, field)) is not None:
            exprs.append(pl.col(col).cast(pl.String).alias(field))
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias(field))
            continue
        provided.add(field)
    missing = [f for f in entity.required if f not in provided]
    if entity.one_of and not any(f in provided for f in entity.one_of):
        missing.append(" or ".join(entity.one_of))
    kept = [c for c in (*LINEAGE, *CARRIED) if c in frame.columns]
    out = frame.select(*[pl.col(c) for c in kept], *exprs)
    return Mapped(out, tuple(absent), tuple(missing))
