"""Parsing text columns into typed ones: dates, timestamps, numbers. Polars in, polars out."""

from __future__ import annotations

import polars as pl

#: ISO 8601 spellings tried after the source's own date formats ('T' is folded into a space).
ISO_NAIVE = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
ISO_OFFSET = ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M%z")


def _iso_folded(s: pl.Series) -> pl.Series:
    """'2024-01-02T10:00:00Z' -> '2024-01-02 10:00:00+00:00' so fewer formats cover ISO 8601."""
    return s.str.replace(r"^(\d{4}-\d{2}-\d{2})T", "$1 ").str.replace(r"Z$", "+00:00")


def _try_format(s: pl.Series, fmt: str, timezone: str) -> pl.Series:
    parsed = s.str.to_datetime(fmt, strict=False, time_unit="us")
    if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is not None:
        parsed = parsed.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    return parsed


def parse_timestamps(s: pl.Series, formats: list[str], timezone: str) -> pl.Series:
    """Text to naive timestamps in the warehouse zone; unparseable values become null.

    The source's formats are tried first, then ISO 8601. Values with an offset are converted
    to `timezone`; values without one are taken as already in it (date-only never shifts).
    Each format is tried only on the values that are still unparsed: the first on the whole
    column as it is (no copy), the later ones on the shrinking rest, which is gathered once
    and then narrowed, never gathered from the whole column again.
    """
    candidates = [(f, False) for f in formats]
    candidates += [(f, True) for f in (*ISO_NAIVE, *ISO_OFFSET)]
    out: pl.Series | None = None
    idx: pl.Series | None = None  # positions in `s` of `values`; None: all of them
    values = s
    for fmt, folded in candidates:
        if out is not None:
            if idx is None:
                left = s.is_not_null() & out.is_null()
                if not left.any():
                    break
                idx = left.arg_true()
                values = s.gather(idx)
            elif idx.is_empty():
                break
        parsed = _try_format(_iso_folded(values) if folded else values, fmt, timezone)
        if not isinstance(parsed.dtype, pl.Datetime) or parsed.dtype.time_unit != "us":
            parsed = parsed.cast(pl.Datetime("us"))
        if out is None:
            out = parsed.alias(s.name)
            continue
        hit = parsed.is_not_null()
        if hit.any():
            assert idx is not None
            out = out.scatter(idx.filter(hit), parsed.filter(hit))
            idx, values = idx.filter(~hit), values.filter(~hit)
    if out is None:
        return pl.Series(s.name, [None] * len(s), dtype=pl.Datetime("us"))
    return out


def parse_dates(s: pl.Series, formats: list[str], timezone: str) -> pl.Series:
    """Text to dates; a timestamp value keeps its calendar day in the warehouse zone."""
    return parse_timestamps(s, formats, timezone).dt.date()


def parse_numbers(s: pl.Series, *, decimal_comma: bool) -> pl.Series:
    """Text to floats: currency signs, spaces, percent signs and thousands separators go.

    Most values of an export read as a finite number as they are ('17076.00'), or with a
    decimal comma once their comma is a point ('17076,00'): those are cast at once (such text
    has at most one letter, an exponent's 'e', and no sign, separator or parenthesis that the
    cleaning below removes, so it reads the same either way); only the others (with a decimal
    comma: every value with a '.', where '1.000' is a thousand) are cleaned first (see
    numbers_from_text).
    """
    if decimal_comma:
        direct = s.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        grouped = s.str.contains(".", literal=True).fill_null(False)
        readable = direct.is_finite().fill_null(False) & ~grouped
        direct = pl.select(pl.when(readable).then(direct)).to_series().alias(s.name)
    else:
        direct = s.cast(pl.Float64, strict=False)
        readable = direct.is_finite().fill_null(False)
    rest = s.is_not_null() & ~readable
    if not rest.any():
        return direct
    idx = rest.arg_true()
    return direct.scatter(idx, numbers_from_text(s.gather(idx), decimal_comma=decimal_comma))


def numbers_from_text(s: pl.Series, *, decimal_comma: bool) -> pl.Series:
    """Text to floats, every value cleaned: currency signs, spaces (no-break ones too), percent
    signs, 3-letter currency codes and thousands separators (the other mark, spaces and
    apostrophes: 1'234.50) go; '(12.50)' is -12.5."""
    cleaned = s.str.replace_all(r"[\s'’$€£¥%]|[A-Za-z]{3}$|^[A-Za-z]{3}", "")
    if decimal_comma:
        cleaned = cleaned.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        cleaned = cleaned.str.replace_all(",", "", literal=True)
    cleaned = cleaned.str.replace(r"^\((.*)\)$", "-$1")  # accounting negatives: (12.50)
    return cleaned.cast(pl.Float64, strict=False)
