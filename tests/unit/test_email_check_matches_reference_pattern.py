"""EMAIL_REGEX spells Python's `\\s` out as literal characters so pandas runs the email check in
pyarrow's RE2 rather than Python's `re` per value: it must match exactly the values the
straightforward pattern (kept here as the reference) matches with Python's `re`, and
great-expectations must flag exactly the rows that pattern flags."""

from __future__ import annotations

import re

import pandas as pd
import polars as pl

from funnel.quality.checks import EMAIL_REGEX, WHITESPACE, Check
from funnel.quality.runner import run_suite

REFERENCE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"


def test_whitespace_is_every_character_python_calls_white_space() -> None:
    spaces = {chr(i) for i in range(0x110000) if re.match(r"\s", chr(i))}
    assert set(WHITESPACE) == spaces
    assert len(WHITESPACE) == len(spaces)


def values() -> list[str | None]:
    out: list[str | None] = [
        "ann@example.com",
        "ann@example.c",
        "ann@example",
        "@example.com",
        "ann@@example.com",
        "ann@ex@ample.com",
        "ann@example.com\n",  # Python's $ matches before a trailing line break
        "ann@example.com\n\n",
        "ann@example.co1",
        "ánn@exämple.com",
        "ann@example.çom",
        "ann@例え.jp",
        "",
        None,
    ]
    for ch in WHITESPACE + "\u200b\ufeff\x00_-":  # zero-width space and BOM are not white space
        out += [f"a{ch}n@example.com", f"ann@exa{ch}mple.com", f"{ch}ann@example.com"]
        out += [f"ann@example.com{ch}", f"ann@example.{ch}com"]
    return out


def reference(vals: list[str | None]) -> list[bool | None]:
    return [None if v is None else re.search(REFERENCE, v) is not None for v in vals]


def test_pandas_arrow_strings_match_as_python_re_does() -> None:
    vals = values()
    ascii_only = [v for v in vals if v is None or v.isascii()]
    for sample in (vals, ascii_only):
        series = pd.Series(sample, dtype="str")
        got = series.str.contains(EMAIL_REGEX).tolist()
        assert got == series.str.contains(REFERENCE).tolist()  # the way the check ran before
        assert [g for g, v in zip(got, sample, strict=True) if v is not None] == [
            r for r in reference(sample) if r is not None
        ]


def test_great_expectations_flags_the_rows_the_reference_pattern_flags() -> None:
    vals = values() * 3
    frame = pl.DataFrame({"_gid": range(len(vals)), "email": vals})
    check = Check(
        "email_format",
        "warn",
        "ExpectColumnValuesToMatchRegex",
        {"column": "email", "regex": EMAIL_REGEX},
        pl.lit("malformed"),
        "email looks like name@domain.tld",
    )
    failures = run_suite("leads", frame, [check]).failures
    expected = [i for i, ok in enumerate(reference(vals)) if ok is False]
    assert sorted(failures.get_column("_gid").to_list()) == expected
    assert len(expected) > 100
