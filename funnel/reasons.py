"""Quarantine reasons grouped into kinds, with counts and example values, for people to read.

`unknown stage label 'Verloren'` and `unknown stage label 'Perdu'` are one kind of reason
(`unknown stage label`) with two example values; a row's reasons (joined by "; ") and the
fields of one `unparseable value: a='x', b='y'` count once each.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

#: A value inside a reason: quoted text, or a number, date or timestamp.
VALUE = r"'[^']*'|-?\d[\d\-:.]*(?: \d[\d:.]*)?"
UNPARSEABLE = "unparseable value: "
#: One field of an unparseable value's note: created_at='02.11.2024 02:32'.
FIELD_VALUE = r"\w+='[^']*'"


@dataclass(frozen=True)
class Example:
    value: str | None
    file: str
    line: int | None


@dataclass(frozen=True)
class ReasonGroup:
    """One kind of reason of one source: how many rows gave it, and up to two examples."""

    source: str
    kind: str
    rows: int
    examples: tuple[Example, ...]

    def describe(self, base: Path | None = None) -> str:
        """`533  crm_deals: unknown stage label, e.g. 'Verloren' (deals.csv:2)`."""
        shown, last = [], None
        for e in self.examples:
            at = f"line {e.line}" if e.file == last else where(e.file, e.line, base)
            shown.append(f"{e.value} ({at})" if e.value else f"first at {at}")
            last = e.file
        return f"{self.rows:>6,}  {self.source}: {self.kind}" + (
            (", e.g. " if self.examples[0].value else ", ") + ", ".join(shown) if shown else ""
        )


def where(file: str, line: int | None, base: Path | None = None) -> str:
    """A file (relative to `base` when inside it) and line, as `path:line`."""
    shown = file
    if base is not None:
        with contextlib.suppress(ValueError):
            shown = os.path.relpath(file, base)
        if shown.startswith(".."):
            shown = file
    return f"{shown}:{line}" if line is not None else shown


def reason_items(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per reason of each row (`source`, `source_file`, `source_line`, `reasons`):
    `source`, `source_file`, `source_line`, `kind`, `example`."""
    items = (
        rows.select(
            "source",
            "source_file",
            "source_line",
            pl.col("reasons").fill_null("(no reason)").str.split("; ").alias("reason"),
        )
        .explode("reason")
        .with_columns(pl.col("reason").str.starts_with(UNPARSEABLE).alias("_unparsed"))
    )
    fields = pl.col("reason").str.strip_prefix(UNPARSEABLE).str.extract_all(FIELD_VALUE)
    split = (
        items.with_columns(
            pl.when(pl.col("_unparsed") & (fields.list.len() > 0))
            .then(fields)
            .otherwise(pl.concat_list(pl.col("reason")))
            .alias("reason")
        )
        .explode("reason")
        .with_columns(
            pl.when(pl.col("_unparsed") & ~pl.col("reason").str.starts_with(UNPARSEABLE))
            .then(pl.lit(UNPARSEABLE) + pl.col("reason"))
            .otherwise(pl.col("reason"))
            .alias("reason")
        )
    )
    return split.select(
        "source",
        "source_file",
        "source_line",
        pl.col("reason").str.replace_all(VALUE, "…").str.strip_chars_end(" =…:,").alias("kind"),
        pl.col("reason").str.extract(f"({VALUE})").alias("example"),
    )


def reason_groups(rows: pl.DataFrame) -> list[ReasonGroup]:
    """Every kind of reason in `rows` (see reason_items), most rows first, each with up to two
    different example values (the first by file and line)."""
    items = reason_items(rows).sort("source", "source_file", "source_line", nulls_last=True)
    counts = items.group_by("source", "kind", maintain_order=True).len("rows")
    firsts = (
        items.unique(["source", "kind", "example"], keep="first", maintain_order=True)
        .group_by("source", "kind", maintain_order=True)
        .head(2)
    )
    examples: dict[tuple[str, str], list[Example]] = {}
    for r in firsts.iter_rows(named=True):
        examples.setdefault((r["source"], r["kind"]), []).append(
            Example(r["example"], r["source_file"] or "", r["source_line"])
        )
    groups = [
        ReasonGroup(s, k, n, tuple(examples.get((s, k), ()))) for s, k, n in counts.iter_rows()
    ]
    return sorted(groups, key=lambda g: -g.rows)
