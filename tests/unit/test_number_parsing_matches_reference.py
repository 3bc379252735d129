"""parse_numbers casts values that read as a finite number as they are and cleans only the
rest: every value must come out as cleaning every value (numbers_from_text, the way all values
were read before) does."""

from __future__ import annotations

import math
import random

import polars as pl
import pytest

from transforms.parse import numbers_from_text, parse_numbers

SPELLINGS = [
    "17076.00",
    "12",
    "-12.5",
    "+12.5",
    "0",
    "-0",
    ".5",
    "5.",
    "1e5",
    "1E-3",
    "2.5e+10",
    "1e400",
    "-1e400",
    "inf",
    "-inf",
    "Infinity",
    "INF",
    "nan",
    "NaN",
    "-nan",
    "1,234.56",
    "1.234,56",
    "1,5",
    "$1,200",
    "€ 99",
    "USD 12",
    "12 EUR",
    "12EUR",
    "(12.50)",
    "(1e3)",
    "45%",
    " 12 ",
    "1 000",
    "12abc",
    "abc",
    "e5",
    "1e",
    "0x10",
    "1_000",
    "١٢",
    "",
    None,
]
ALPHABET = [*"0123456789.,+-eE $€%()", "inf", "nan", "USD", "x", "\t", "\u00a0"]


def random_values(n: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    out: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.05:
            out.append(None)
        elif rng.random() < 0.4:
            out.append(f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 4)}f}")
        else:
            out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8))))
    return out


def same(a: pl.Series, b: pl.Series) -> bool:
    if a.name != b.name or a.dtype != b.dtype or a.len() != b.len():
        return False
    for x, y in zip(a.to_list(), b.to_list(), strict=True):
        if x is None or y is None:
            if x is not y:
                return False
        elif not (x == y or (math.isnan(x) and math.isnan(y))):
            return False
    return True


@pytest.mark.parametrize("decimal_comma", [False, True])
def test_every_spelling_reads_as_cleaning_every_value_reads_it(decimal_comma: bool) -> None:
    values = SPELLINGS + random_values(20_000, seed=3)
    s = pl.Series("amount", values, dtype=pl.String)
    got = parse_numbers(s, decimal_comma=decimal_comma)
    assert same(got, numbers_from_text(s, decimal_comma=decimal_comma))


def test_plain_numbers_and_the_rest() -> None:
    s = pl.Series("amount", ["17076.00", "$1,200", None, "(12.50)", "inf", "n/a"])
    assert parse_numbers(s, decimal_comma=False).to_list() == [
        17076.0,
        1200.0,
        None,
        -12.5,
        None,
        None,
    ]
    plain = pl.Series("amount", ["1", "2.5", None])
    assert parse_numbers(plain, decimal_comma=False).to_list() == [1.0, 2.5, None]
    assert parse_numbers(pl.Series("amount", [], dtype=pl.String), decimal_comma=False).len() == 0
