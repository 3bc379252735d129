"""Data hygiene on canonical text columns: trim, normalise, type, map stages. No I/O."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from transforms.numbers import NumberFormat, detect_formats, read_numbers, self_read
from transforms.parse import parse_dates, parse_numbers, parse_timestamps
from transforms.schema import STAGES, Entity

TRUE_WORDS = ("true", "yes", "y", "1", "t", "x")
FALSE_WORDS = ("false", "no", "n", "0", "f")
#: Values that mean "no value", in every spelling of their case (no lower-casing per value).
NULL_MARKERS = sorted(
    {""}
    | {"".join(cs) for cs in itertools.product(*((ch.lower(), ch.upper()) for ch in "null"))}
    | {"".join(cs) for cs in itertools.product(*((ch.lower(), ch.upper()) for ch in "n/a"))}
)
#: Free-text fields whose values are categories: lower_snake_case, booleans as yes/no.
CATEGORY_FIELDS = ("authority", "need")


@dataclass(frozen=True)
class CleanOptions:
    """How one source spells its values."""

    date_formats: list[str] = field(default_factory=list)
    timezone: str = "UTC"
    #: The decimal mark of every number column: comma (True), point (False), or None to tell
    #: it per column from the values.
    decimal_comma: bool | None = None
    probability_scale: Literal["auto", 1, 100] = "auto"
    stages: Mapping[str, str] = field(default_factory=dict)
    #: The format of each number column, decided over all of the source's rows (a column not
    #: given is decided from the rows being cleaned).
    number_formats: Mapping[str, NumberFormat] = field(default_factory=dict)


def trim_blanks(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Strip surrounding white space; empty strings and 'NULL'-like markers become null.

    The markers are rare: only the columns that hold one are rewritten (a when/then over a
    text column copies every value, more than stripping them did), which is value for value
    what stripping and nulling every column does.
    """
    if not columns:
        return frame
    stripped = frame.with_columns(pl.col(c).str.strip_chars() for c in columns)
    flags = stripped.select(pl.col(c).is_in(NULL_MARKERS).any() for c in columns).row(0)
    marked = [c for c, has in zip(columns, flags, strict=True) if has]
    return stripped.with_columns(
        pl.when(pl.col(c).is_in(NULL_MARKERS)).then(None).otherwise(pl.col(c)).alias(c)
        for c in marked
    )


#: Control and format characters (NUL, zero-width space, joiners, direction marks, BOM, ...):
#: invisible in an id, so `LD-1`, `LD-1` + NUL and `LD-1` + U+200B are one id.
INVISIBLE = r"[\p{Cc}\p{Cf}]"
#: Text that may need normalising: anything but printable ASCII.
NOT_PLAIN = r"[^\x20-\x7E]"


def normalise_id(s: pl.Series) -> pl.Series:
    """Ids as uniqueness should judge them: Unicode NFC, control and zero-width characters
    removed, trimmed (blank becomes null). Only the values that are not plain printable ASCII
    are touched (usually none: then the column is returned as it is)."""
    odd = s.str.contains(NOT_PLAIN).fill_null(False)
    if not odd.any():
        return s
    idx = odd.arg_true()
    fixed = s.gather(idx).str.normalize("NFC").str.replace_all(INVISIBLE, "").str.strip_chars()
    fixed = fixed.set(fixed == "", None)
    return s.scatter(idx, fixed)


def normalise_email(col: str) -> pl.Expr:
    """Lower-case, no spaces, no 'mailto:'."""
    return (
        pl.col(col).str.to_lowercase().str.replace_all(r"\s", "").str.replace(r"^mailto:", "")
    ).alias(col)


def normalise_phone(col: str) -> pl.Expr:
    """'+1 (555) 010-2000' -> '+15550102000'; text that is not a phone number stays as it is."""
    digits = pl.col(col).str.replace_all(r"[^\d]", "")
    plus = pl.when(pl.col(col).str.starts_with("+")).then(pl.lit("+")).otherwise(pl.lit(""))
    looks_like_phone = pl.col(col).str.contains(r"^\+?[\d\s().\-/]+$")
    return pl.when(looks_like_phone).then(plus + digits).otherwise(pl.col(col)).alias(col)


def normalise_category(col: str) -> pl.Expr:
    """'Decision Maker' -> 'decision_maker'; TRUE / 1 -> 'yes', FALSE / 0 -> 'no'."""
    low = pl.col(col).str.to_lowercase()
    snake = low.str.replace_all(r"[^a-z0-9]+", "_").str.strip_chars("_")
    return (
        pl.when(low.is_in(TRUE_WORDS))
        .then(pl.lit("yes"))
        .when(low.is_in(FALSE_WORDS))
        .then(pl.lit("no"))
        .otherwise(snake)
        .alias(col)
    )


def by_distinct_value(s: pl.Series, normalise: Callable[[str], pl.Expr]) -> pl.Expr:
    """`normalise` of a column computed once per distinct value and mapped back: a category
    column has a handful of values over a million rows. The same result value for value."""
    values = s.unique().drop_nulls()
    normalised = pl.DataFrame({s.name: values}).select(normalise(s.name)).to_series()
    return (
        pl.col(s.name)
        .replace_strict(values, normalised, default=None, return_dtype=pl.String)
        .alias(s.name)
    )


def stage_lookup(stages: Mapping[str, str]) -> dict[str, str]:
    """Label -> canonical stage, case-insensitive; canonical names map to themselves."""
    lookup = {s: s for s in STAGES}
    lookup.update({s.replace("_", " "): s for s in STAGES})
    lookup.update({label.strip().casefold(): stage for label, stage in stages.items()})
    return lookup


def map_stage(frame: pl.DataFrame, stages: Mapping[str, str]) -> pl.DataFrame:
    """Keep the source's label in stage_label; stage becomes canonical (null when unknown)."""
    lookup = stage_lookup(stages)

    def canonical(col: str) -> pl.Expr:
        return (
            pl.col(col)
            .str.strip_chars()
            .str.to_lowercase()
            .replace_strict(lookup, default=None, return_dtype=pl.String)
            .alias(col)
        )

    # a stage column has a handful of labels over many rows: map each label once
    return frame.with_columns(
        pl.col("stage").alias("stage_label"),
        by_distinct_value(frame.get_column("stage"), canonical),
    )


def probability_numbers(
    text: pl.Series, decimal_comma: bool | None, marks: pl.Series | None = None
) -> pl.Series:
    """Probability texts as numbers (before any scaling): read with the configured mark, or
    each by its own (ambiguous ones null) when none is configured (`marks`: the trimmed
    texts' classes, when known already)."""
    trimmed = trim_blanks(text.to_frame(), [text.name]).to_series()
    if decimal_comma is None:
        return self_read(trimmed, marks)
    return parse_numbers(trimmed, decimal_comma=decimal_comma)


def auto_scale(top: float | None) -> Literal[1, 100]:
    """The scale `auto` means for probabilities up to `top`: 100 when any value is above 1."""
    return 100 if (top or 0) > 1 else 1


def probability_scale_of(text: pl.Series, decimal_comma: bool | None) -> Literal[1, 100]:
    """The scale `auto` means for these probability texts."""
    return auto_scale(probability_numbers(text, decimal_comma).max())  # type: ignore[arg-type]


def scale_probability(s: pl.Series, scale: Literal["auto", 1, 100]) -> pl.Series:
    """Probability to 0..1: divide by 100 when the source says 0-100 (or, auto, any value > 1)."""
    if scale == 100 or (scale == "auto" and auto_scale(s.max()) == 100):  # type: ignore[arg-type]
        return s / 100
    return s


def clean(frame: pl.DataFrame, entity: Entity, options: CleanOptions) -> pl.DataFrame:
    """Type and normalise every canonical field.

    Adds `stage_label` (entities with a stage), `_unparsed`: a note of each value that had
    text but could not be read as its type (null when all parsed), and `_number_format`: a note
    of each number not read because it contradicts its column's decimal mark or leaves it
    ambiguous (see transforms.numbers), for the quality checks.
    """
    fields = list(entity.fields)
    frame = trim_blanks(frame, fields)
    ids = [name for name, kind in entity.fields.items() if kind == "id"]
    frame = frame.with_columns(normalise_id(frame.get_column(name)) for name in ids)
    exprs: list[pl.Expr] = []
    for name, kind in entity.fields.items():
        if kind == "email":
            exprs.append(normalise_email(name))
        elif kind == "phone":
            exprs.append(normalise_phone(name))
        elif kind == "currency":  # 'usd' and 'USD' are one currency (rates are matched on it)
            exprs.append(pl.col(name).str.to_uppercase())
        elif name in CATEGORY_FIELDS:
            exprs.append(by_distinct_value(frame.get_column(name), normalise_category))
    frame = frame.with_columns(exprs)
    if entity.has_stage:
        frame = map_stage(frame, options.stages)

    typed: list[pl.Series] = []
    notes: list[pl.Expr] = []
    format_notes: list[pl.Series] = []
    number_fields = [n for n, k in entity.fields.items() if k in ("money", "number")]
    formats = {
        **detect_formats(
            frame,
            [n for n in number_fields if n not in options.number_formats],
            options.decimal_comma,
        ),
        **options.number_formats,
    }
    for name, kind in entity.fields.items():
        raw = frame.get_column(name)
        misread: pl.Series | None = None
        if kind == "timestamp":
            value = parse_timestamps(raw, options.date_formats, options.timezone)
        elif kind == "date":
            value = parse_dates(raw, options.date_formats, options.timezone)
        elif kind in ("money", "number"):
            value, misread = read_numbers(raw, formats[name])
            if name == "probability":
                value = scale_probability(value, options.probability_scale)
        else:
            continue
        typed.append(value.alias(name))
        failed = raw.is_not_null() & value.is_null()
        if misread is not None:
            format_notes.append(misread)
            failed = failed & misread.is_null()  # noted as a number format, not unparseable
        if failed.any():
            notes.append(
                pl.when(pl.lit(failed))
                .then(pl.format(f"{name}='{{}}'", pl.lit(raw)))
                .otherwise(None)
            )
    frame = frame.with_columns(typed)
    unparsed = pl.concat_str(notes, separator=", ", ignore_nulls=True) if notes else pl.lit(None)
    misread_all = (
        pl.concat_str([pl.lit(n) for n in format_notes], separator="; ", ignore_nulls=True)
        if format_notes
        else pl.lit(None)
    )
    return frame.with_columns(
        pl.when(unparsed == "").then(None).otherwise(unparsed).cast(pl.String).alias("_unparsed"),
        pl.when(misread_all == "")
        .then(None)
        .otherwise(misread_all)
        .cast(pl.String)
        .alias("_number_format"),
    )
