"""Which decimal mark a number column uses, told by its own values, and its values read with it.

Each value is classed by what it says about the mark (`value_marks`): `1.234,56`, `21137,00`,
`1.234.567` say comma; `1,234.56`, `21137.5`, `1,234,567` say point; `1,234` and `1.234` (one
mark, then exactly three digits) could be either: ambiguous; `21137` says nothing (plain).
Spaces (also no-break ones) and apostrophes only ever group thousands. A column's classes,
counted over all of a source's rows (`MarkCounts`), decide its format (`decide_format`): the
configured mark, else the one its values tell. Values that contradict it, or stay ambiguous,
are not read but noted (`read_numbers`), for the quality checks to quarantine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import polars as pl

from transforms.parse import numbers_from_text, parse_numbers

#: A value's class: what it says about the column's decimal mark (null: blank).
PLAIN, COMMA, POINT, AMBIGUOUS, UNREADABLE = 0, 1, 2, 3, 4
CLASS_NAMES = {
    PLAIN: "plain",
    COMMA: "comma",
    POINT: "point",
    AMBIGUOUS: "ambiguous",
    UNREADABLE: "unreadable",
}
Decimal = Literal[",", "."]

#: What is never a digit or a mark: white space (any, NBSP and narrow NBSP too), grouping
#: apostrophes, currency signs and codes, percent signs, signs and accounting parentheses.
_NOT_DIGITS = r"[\s'’$€£¥%()+\-]|[A-Za-z]{3}$|^[A-Za-z]{3}"
_EXPONENT = r"(?:[eE]\d+)?"


def _grouped(mark: str) -> str:
    """An integer part grouped by `mark`: 1.234.567, and 12,34,567 (Indian lakh grouping)."""
    return rf"[1-9]\d{{0,2}}(?:{mark}\d{{2,3}})*{mark}\d{{3}}"


#: The classes, as patterns over a value with _NOT_DIGITS removed (tried in this order).
_PLAIN_RE = rf"^\d+[.,]?{_EXPONENT}$"  # a last mark ('5.') reads the same either way
_AMBIGUOUS_RE = r"^[1-9]\d{0,2}[.,]\d{3}$"
_GROUPED_BY_POINT, _GROUPED_BY_COMMA = _grouped(r"\."), _grouped(",")
_COMMA_RE = rf"^(?:\d*,\d+{_EXPONENT}|{_GROUPED_BY_POINT}(?:,\d*)?)$"
_POINT_RE = rf"^(?:\d*\.\d+{_EXPONENT}|{_GROUPED_BY_COMMA}(?:\.\d*)?)$"
#: A value that reads as a float as it is, with one '.' then exactly three digits: '123.456'.
_AMBIGUOUS_PLAIN_RE = r"^[-+]?[1-9]\d{0,2}\.\d{3}$"


def value_marks(s: pl.Series) -> pl.Series:
    """Each value's class (PLAIN, COMMA, POINT, AMBIGUOUS, UNREADABLE; null when blank).

    Most values of an export read as a float as they are ('17076.00', '50'), or do once their
    one comma is a point ('17076,00'): those are told apart by cheap tests (see `_castable`).
    Only the other values are cleaned and matched against patterns.
    """
    marks, rest = _castable(s, POINT)
    if not rest.any():
        return marks
    idx = rest.arg_true()
    others = s.gather(idx)
    # a value with one comma and no point that reads as a float with a point instead
    swapped, left = _castable(others.str.replace(",", ".", literal=True), COMMA)
    if left.any():
        at = left.arg_true()
        swapped = swapped.scatter(at, _cleaned_marks(others.gather(at)))
    return marks.scatter(idx, swapped)


def _castable(s: pl.Series, mark: int) -> tuple[pl.Series, pl.Series]:
    """The classes of the values that read as a float as they are (null for the others), their
    '.' standing for `mark`; and which non-blank values do not read so.

    Such a value is plain without a '.' (or with a last one) and else tells `mark`, unless the
    '.' is followed by
    exactly three digits after one to three others ('123.456'): told by length and size, and
    checked by pattern on those few.
    """
    number = s.cast(pl.Float64, strict=False)
    direct = number.is_finite().fill_null(False)
    frame = pl.DataFrame(
        {
            "direct": direct,
            "size": number.abs(),
            "point": s.str.find(".", literal=True),
            "length": s.str.len_bytes(),
        }
    )
    maybe = (pl.col("length") - pl.col("point") == 4) & pl.col("size").is_between(1, 1000, "left")
    marks = frame.select(
        pl.when(~pl.col("direct"))
        .then(None)
        .when(pl.col("point").is_null() | (pl.col("point") == pl.col("length") - 1))
        .then(PLAIN)  # no mark, or a last one ('5.'): reads the same either way
        .when(maybe)
        .then(AMBIGUOUS)
        .otherwise(mark)
        .cast(pl.Int8)
        .alias(s.name)
    ).to_series()
    # '1.2e1' has the length and size of an ambiguous value: the pattern has the last word
    candidates = (marks == AMBIGUOUS).fill_null(False)
    if candidates.any():
        idx = candidates.arg_true()
        sure = s.gather(idx).str.contains(_AMBIGUOUS_PLAIN_RE)
        marks = marks.scatter(idx, sure.cast(pl.Int8) * (AMBIGUOUS - mark) + mark)
    return marks, s.is_not_null() & ~direct


def _cleaned_marks(s: pl.Series) -> pl.Series:
    """value_marks of values that do not read as a float as they are."""
    t = pl.col("v").str.replace_all(_NOT_DIGITS, "")
    return (
        pl.DataFrame({"v": s})
        .select(
            pl.when(pl.col("v").str.strip_chars() == "")
            .then(None)  # blank: no value, not a bad one
            .when(t.str.contains(_PLAIN_RE))
            .then(PLAIN)
            .when(t.str.contains(_AMBIGUOUS_RE))
            .then(AMBIGUOUS)
            .when(t.str.contains(_COMMA_RE))
            .then(COMMA)
            .when(t.str.contains(_POINT_RE))
            .then(POINT)
            .otherwise(UNREADABLE)
            .cast(pl.Int8)
        )
        .to_series()
    )


#: Examples kept per class.
EXAMPLES = 3


@dataclass(frozen=True)
class MarkCounts:
    """How many values of a column fall in each class, with a few examples where known."""

    plain: int = 0
    comma: int = 0
    point: int = 0
    ambiguous: int = 0
    unreadable: int = 0
    #: class -> up to EXAMPLES values of it, as written.
    examples: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    def of_class(self, cls: int) -> int:
        return int(getattr(self, CLASS_NAMES[cls]))

    @staticmethod
    def by_class(
        counts: Mapping[int, int], examples: Mapping[int, tuple[str, ...]] | None = None
    ) -> MarkCounts:
        """From a count (and examples) per class."""
        kwargs = {name: int(counts.get(cls, 0)) for cls, name in CLASS_NAMES.items()}
        return MarkCounts(**kwargs, examples=dict(examples or {}))

    def __add__(self, other: MarkCounts) -> MarkCounts:
        examples = {
            k: tuple(dict.fromkeys((*self.examples.get(k, ()), *other.examples.get(k, ()))))
            for k in {*self.examples, *other.examples}
        }
        return MarkCounts.by_class(
            {c: self.of_class(c) + other.of_class(c) for c in CLASS_NAMES},
            {k: v[:EXAMPLES] for k, v in examples.items()},
        )

    @staticmethod
    def of_marks(marks: pl.Series) -> MarkCounts:
        """The counts of a column's classes (value_marks), without examples."""
        return MarkCounts.by_class(dict(marks.drop_nulls().value_counts().iter_rows()))

    @staticmethod
    def of(text: pl.Series) -> MarkCounts:
        """The counts of a column's classes, with the first few values of each as examples."""
        groups = (
            pl.DataFrame({"v": text, "m": value_marks(text)})
            .drop_nulls("m")
            .group_by("m")
            .agg(pl.len(), pl.col("v").head(20).unique(maintain_order=True).head(EXAMPLES))
        )
        counts = {m: n for m, n, _ in groups.iter_rows()}
        return MarkCounts.by_class(counts, {m: tuple(v) for m, _, v in groups.iter_rows()})

    def example(self, cls: int) -> str:
        """', e.g. '1,5', '2,75'' (empty when none is known)."""
        found = self.examples.get(cls, ())
        return ", e.g. " + ", ".join(f"'{v}'" for v in found) if found else ""


@dataclass(frozen=True)
class NumberFormat:
    """How one number column of a source writes its values, and how that was decided."""

    column: str
    #: The decimal mark; None when the values do not tell (none has a mark, or a tie).
    decimal: Decimal | None
    #: configured (decimal_comma set), detected (told by the values), undetermined.
    how: Literal["configured", "detected", "undetermined"]
    counts: MarkCounts
    #: The source's name, for messages.
    source: str = ""

    @property
    def flagged(self) -> frozenset[int]:
        """The classes of the values that are not read but noted.

        Configured: values telling the other mark. Detected: those, and ambiguous values when
        the column also holds values telling the other mark (it mixes two formats, so an
        ambiguous value cannot lean on its column). Undetermined: every value with a mark.
        """
        c = self.counts
        if self.decimal == ",":
            mixed = self.how == "detected" and c.point > 0
            return frozenset({POINT, AMBIGUOUS} if mixed else {POINT})
        if self.decimal == ".":
            mixed = self.how == "detected" and c.comma > 0
            return frozenset({COMMA, AMBIGUOUS} if mixed else {COMMA})
        return frozenset({COMMA, POINT, AMBIGUOUS})

    def with_examples(self, sample: pl.Series) -> NumberFormat:
        """This format with examples of each class taken from `sample` (counts unchanged)."""
        found = MarkCounts.of(sample).examples
        examples = {k: self.counts.examples.get(k) or found.get(k, ()) for k in {*found}}
        counts = replace(self.counts, examples={k: v for k, v in examples.items() if v})
        return replace(self, counts=counts)

    @property
    def rows_flagged(self) -> int:
        return sum(self.counts.of_class(k) for k in self.flagged)

    @property
    def needs_rows(self) -> bool:
        """Whether reading the column must look at each value's class (some value is flagged
        or unreadable), rather than read every value with the decided mark."""
        return self.rows_flagged > 0 or self.counts.unreadable > 0

    @property
    def key(self) -> list[object]:
        """What decides how each value reads (for a source's fingerprint): mark and flags."""
        return [self.decimal, sorted(self.flagged)]

    def describe(self) -> str:
        """One line for people: the mark, how it was decided, and what was not read."""
        c = self.counts
        told = {",": c.comma, ".": c.point}
        mark_name = {",": "decimal comma", ".": "decimal point"}
        if self.decimal is not None:
            if self.how == "configured":
                flag = "true" if self.decimal == "," else "false"
                text = f"{mark_name[self.decimal]} (configured: decimal_comma = {flag})"
            else:
                cls = COMMA if self.decimal == "," else POINT
                text = (
                    f"{mark_name[self.decimal]} (detected from {told[self.decimal]:,} values"
                    f"{c.example(cls)})"
                )
        elif c.comma or c.point:
            text = (
                f"mixed: {c.comma:,} values have a decimal comma{c.example(COMMA)}, as many"
                f" a decimal point{c.example(POINT)}"
            )
        elif c.ambiguous:
            text = "undetermined: no value tells the decimal mark"
        else:
            text = "no value has a decimal mark"
        notes = []
        for cls in sorted(self.flagged):
            n = c.of_class(cls)
            if n and (self.decimal is not None or cls == AMBIGUOUS):
                notes.append(f"{n:,} {_CLASS_PHRASE[cls]}{c.example(cls)}")
        if notes:
            text += "; not read: " + "; ".join(notes)
        return f"{self.column}: {text}"

    def note(self, cls: int) -> str:
        """The quarantine reason of a value of class `cls`, `{}` standing for the value."""
        c = self.counts
        where = f"source {self.source!r}" if self.source else "the source"
        if cls == AMBIGUOUS:
            if self.decimal is None:
                why = "no value of the column tells which"
            else:
                why = "the column mixes decimal commas and decimal points"
            return (
                f"{self.column} '{{}}' is ambiguous: its mark may be a decimal mark or a"
                f" thousands separator, and {why}; set decimal_comma for {where}"
            )
        mark = "comma" if cls == COMMA else "point"
        if self.how == "configured":
            flag = "true" if self.decimal == "," else "false"
            return (
                f"{self.column} '{{}}' has a decimal {mark}, but {where} sets"
                f" decimal_comma = {flag}"
            )
        other = POINT if cls == COMMA else COMMA
        other_mark = "point" if other == POINT else "comma"
        if self.decimal is None:
            return (
                f"{self.column} '{{}}' has a decimal {mark}, but as many values of the column"
                f" ({c.of_class(other):,}) have a decimal {other_mark}; set decimal_comma for"
                f" {where}"
            )
        return (
            f"{self.column} '{{}}' has a decimal {mark}, but the column's other values have a"
            f" decimal {other_mark} ({c.of_class(other):,} values against {c.of_class(cls):,})"
        )


_CLASS_PHRASE = {
    COMMA: "with a decimal comma",
    POINT: "with a decimal point",
    AMBIGUOUS: "ambiguous",
}


def decide_format(
    column: str, counts: MarkCounts, decimal_comma: bool | None, source: str = ""
) -> NumberFormat:
    """A column's format: `decimal_comma` when set; else the mark most of its values tell
    (values telling the other one are then contradictions); undetermined on a tie or when no
    value tells (ambiguous values alone cannot)."""
    if decimal_comma is not None:
        return NumberFormat(column, "," if decimal_comma else ".", "configured", counts, source)
    if counts.comma > counts.point:
        return NumberFormat(column, ",", "detected", counts, source)
    if counts.point > counts.comma:
        return NumberFormat(column, ".", "detected", counts, source)
    return NumberFormat(column, None, "undetermined", counts, source)


def detect_formats(
    frame: pl.DataFrame,
    columns: Iterable[str],
    decimal_comma: bool | None = None,
    source: str = "",
) -> dict[str, NumberFormat]:
    """The format of each of those text columns of `frame`, decided from all its values (or
    configured): what `funnel check` reports, and what a run reads the columns with."""
    return {
        c: decide_format(c, MarkCounts.of(frame.get_column(c)), decimal_comma, source)
        for c in columns
    }


def read_numbers(s: pl.Series, fmt: NumberFormat) -> tuple[pl.Series, pl.Series | None]:
    """The values as floats read with the column's mark, and a note for each value that is not
    read because it contradicts the format or stays ambiguous (None when no value has one).

    A column whose classes show nothing flagged and nothing unreadable reads every value with
    its mark (the fast path of parse_numbers for a decimal point); only the others class each
    value. An unreadable value (no number) comes out null without a note (values_parse).
    """
    comma = fmt.decimal == ","
    values = parse_numbers(s, decimal_comma=comma)
    if not fmt.needs_rows:
        return values, None
    frame = pl.DataFrame({"v": s, "n": values, "m": value_marks(s)})
    m = pl.col("m")
    note: pl.Expr = pl.lit(None, dtype=pl.String)
    for cls in sorted(fmt.flagged):
        note = pl.when(m == cls).then(pl.format(fmt.note(cls), pl.col("v"))).otherwise(note)
    unread = m.is_in(list(fmt.flagged)) | (m == UNREADABLE)
    out = frame.select(
        pl.when(unread.fill_null(False)).then(None).otherwise(pl.col("n")).alias(s.name),
        note.alias("note"),
    )
    notes = out.get_column("note")
    return out.get_column(s.name), notes.alias(s.name) if notes.is_not_null().any() else None


def self_read(text: pl.Series, marks: pl.Series | None = None) -> pl.Series:
    """Each value read by its own mark (a value with a decimal comma with it, others with a
    point); ambiguous and unreadable values null. For deciding a probability scale before the
    column's format is known. `marks`: the values' classes, when known already."""
    classes = value_marks(text) if marks is None else marks
    frame = pl.DataFrame({"m": classes, "p": parse_numbers(text, decimal_comma=False)})
    m = pl.col("m")
    if (frame.get_column("m") == COMMA).any():
        frame = frame.with_columns(c=numbers_from_text(text, decimal_comma=True))
        by_mark = pl.when(m == COMMA).then(pl.col("c")).otherwise(pl.col("p"))
    else:
        by_mark = pl.col("p")
    unsure = m.is_in([AMBIGUOUS, UNREADABLE]).fill_null(False)
    return frame.select(pl.when(unsure).then(None).otherwise(by_mark).alias(text.name)).to_series()
