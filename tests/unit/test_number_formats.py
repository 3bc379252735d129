"""Decimal marks told by a column's values (transforms.numbers): each spelling's class, the
column's decision, the values read with it, and the notes of the values left unread."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.numbers import (
    AMBIGUOUS,
    CLASS_NAMES,
    COMMA,
    PLAIN,
    POINT,
    UNREADABLE,
    MarkCounts,
    decide_format,
    detect_formats,
    read_numbers,
    value_marks,
)
from transforms.parse import parse_numbers

CLASSES = {
    # both marks: the last one is the decimal mark
    "1.234,56": COMMA,
    "1,234.56": POINT,
    "1.234.567,89": COMMA,
    "12,34,567.89": POINT,  # Indian grouping
    # one mark, not followed by exactly three digits: it is the decimal mark
    "21137,00": COMMA,
    "21137.5": POINT,
    "21137.00": POINT,
    "1,5": COMMA,
    "0,250": COMMA,  # no thousands group starts with 0
    "0.125": POINT,
    "1234.567": POINT,  # an integer part of four digits is not a thousands group
    # the same mark twice: it groups thousands
    "1.234.567": COMMA,
    "1,234,567": POINT,
    # spaces (also no-break ones) and apostrophes only ever group thousands
    "1 234,5": COMMA,
    "1\u00a0234,5": COMMA,
    "1\u202f234,5": COMMA,
    "1'234.50": POINT,
    "1’234.50": POINT,
    "1 234": PLAIN,
    # one mark and exactly three digits: a thousands group or three decimals
    "1,234": AMBIGUOUS,
    "1.234": AMBIGUOUS,
    "-1.234": AMBIGUOUS,
    "$1,234": AMBIGUOUS,
    "999.999": AMBIGUOUS,
    # signs, currency and accounting negatives do not change the class
    "EUR 1.234,56": COMMA,
    "(1.234,50)": COMMA,
    "$1,234.50": POINT,
    "-12.5": POINT,
    "1.2e1": POINT,
    "50": PLAIN,
    "1e5": PLAIN,
    # no number
    "1.23.4": UNREADABLE,
    "abc": UNREADABLE,
    "inf": UNREADABLE,
}


def test_each_spelling_says_what_it_tells_of_the_decimal_mark() -> None:
    values = [*CLASSES, None, "", "  "]
    got = value_marks(pl.Series("amount", values)).to_list()
    expected = [*CLASSES.values(), None, None, None]
    wrong = {v: CLASS_NAMES.get(g) for v, g, e in zip(values, got, expected, strict=True) if g != e}
    assert wrong == {}


@pytest.mark.parametrize(
    ("values", "read"),
    [
        (["1.234.567,89", "950"], [1234567.89, 950.0]),
        (["1 234,5", "12\u00a0000,75"], [1234.5, 12000.75]),
        (["1'234.50", "999'999.95"], [1234.5, 999999.95]),
        (["21137,00", "7401,50"], [21137.0, 7401.5]),
        (["1.234,56", "21137,00"], [1234.56, 21137.0]),
        (["1,234.56", "21137.00"], [1234.56, 21137.0]),
        # once the mark is known, the ambiguous spellings read with it
        (["21137,00", "1.234"], [21137.0, 1234.0]),
        (["21137.00", "1,234"], [21137.0, 1234.0]),
        (["21137.50", "1.234"], [21137.5, 1.234]),
    ],
)
def test_a_column_reads_with_the_mark_its_values_tell(values: list[str], read: list[float]) -> None:
    s = pl.Series("amount", values)
    fmt = detect_formats(s.to_frame(), ["amount"])["amount"]
    out, notes = read_numbers(s, fmt)
    assert out.to_list() == read
    assert notes is None


def test_a_column_mixing_marks_reads_the_majority_and_notes_the_rest() -> None:
    s = pl.Series("amount", ["1.5", "2.25", "1,5", "1,234", "7"])
    fmt = detect_formats(s.to_frame(), ["amount"], source="deals")["amount"]
    assert (fmt.decimal, fmt.how) == (".", "detected")
    out, notes = read_numbers(s, fmt)
    assert out.to_list() == [1.5, 2.25, None, None, 7.0]
    assert notes is not None
    assert notes.to_list() == [
        None,
        None,
        "amount '1,5' has a decimal comma, but the column's other values have a decimal point"
        " (2 values against 1)",
        "amount '1,234' is ambiguous: its mark may be a decimal mark or a thousands separator,"
        " and the column mixes decimal commas and decimal points; set decimal_comma for source"
        " 'deals'",
        None,
    ]
    assert fmt.describe() == (
        "amount: decimal point (detected from 2 values, e.g. '1.5', '2.25'); not read: 1 with a"
        " decimal comma, e.g. '1,5'; 1 ambiguous, e.g. '1,234'"
    )


def test_a_tie_decides_nothing_and_every_value_with_a_mark_is_noted() -> None:
    s = pl.Series("amount", ["1,5", "1.5", "3"])
    fmt = detect_formats(s.to_frame(), ["amount"])["amount"]
    assert (fmt.decimal, fmt.how) == (None, "undetermined")
    out, notes = read_numbers(s, fmt)
    assert out.to_list() == [None, None, 3.0]
    assert notes is not None and notes.is_null().to_list() == [False, False, True]


def test_a_column_of_ambiguous_values_only_is_never_guessed() -> None:
    s = pl.Series("amount", ["1,234", "5,600", "700", None])
    fmt = detect_formats(s.to_frame(), ["amount"], source="deals")["amount"]
    assert (fmt.decimal, fmt.how) == (None, "undetermined")
    out, notes = read_numbers(s, fmt)
    assert out.to_list() == [None, None, 700.0, None]
    assert notes is not None
    assert notes.to_list()[0] == (
        "amount '1,234' is ambiguous: its mark may be a decimal mark or a thousands separator,"
        " and no value of the column tells which; set decimal_comma for source 'deals'"
    )
    assert fmt.describe() == (
        "amount: undetermined: no value tells the decimal mark; not read: 2 ambiguous,"
        " e.g. '1,234', '5,600'"
    )


def test_a_configured_mark_reads_ambiguous_values_and_notes_contradictions() -> None:
    s = pl.Series("amount", ["1.234", "1,5", "1,234.50"])
    fmt = detect_formats(s.to_frame(), ["amount"], decimal_comma=True, source="deals")["amount"]
    assert (fmt.decimal, fmt.how) == (",", "configured")
    out, notes = read_numbers(s, fmt)
    assert out.to_list() == [1234.0, 1.5, None]
    assert notes is not None
    assert notes.to_list()[2] == (
        "amount '1,234.50' has a decimal point, but source 'deals' sets decimal_comma = true"
    )


def test_counts_add_up_over_slices_and_keep_a_few_examples() -> None:
    a = MarkCounts.of(pl.Series(["1,5", "2,5", "3"]))
    b = MarkCounts.of(pl.Series(["4,5", "5,5", "1.234"]))
    total = a + b
    assert (total.plain, total.comma, total.point, total.ambiguous) == (1, 4, 0, 1)
    assert total.examples[COMMA] == ("1,5", "2,5", "4,5")
    marks = value_marks(pl.Series(["1,5", "2,5", "3", "4,5", "5,5", "1.234"]))
    counts = MarkCounts.of_marks(marks)
    assert (counts.plain, counts.comma, counts.ambiguous) == (1, 4, 1)
    assert decide_format("amount", counts, None).decimal == ","


def test_plain_point_columns_read_as_the_fast_path_reads_them() -> None:
    values = [f"{i * 7.31:.2f}" for i in range(2000)] + ["12", None, " 5 ", "(3.50)", "$1,200.00"]
    s = pl.Series("amount", values)
    fmt = detect_formats(s.to_frame(), ["amount"])["amount"]
    assert not fmt.needs_rows
    out, notes = read_numbers(s, fmt)
    assert notes is None
    assert out.to_list() == parse_numbers(s, decimal_comma=False).to_list()


def test_the_cheap_tests_class_every_value_as_the_patterns_do() -> None:
    """value_marks tells most values apart without patterns (see _castable): over many random
    spellings and numbers, it must agree value for value with the patterns alone."""
    import random

    from transforms.numbers import _cleaned_marks

    rng = random.Random(5)
    alphabet = [*"0123456789" * 4, *".,.,- $€'"]
    values = {
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))) for _ in range(50_000)
    }
    for _ in range(10_000):
        v = f"{rng.uniform(0, 1e6):.{rng.randint(0, 4)}f}"
        e = f"{rng.uniform(0, 1e6):.{rng.randint(0, 4)}e}"
        values |= {v, v.replace(".", ","), f"-{v}", e, e.replace(".", ",")}
    s = pl.Series("amount", sorted(values))
    cheap, patterns = value_marks(s).to_list(), _cleaned_marks(s).to_list()
    assert [v for v, a, b in zip(s.to_list(), cheap, patterns, strict=True) if a != b] == []
