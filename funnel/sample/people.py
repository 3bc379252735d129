"""Who the leads are: company names and domains, and each lead's email and phone."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl

from funnel.sample.layout import Arr


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "james john robert michael william david richard joseph thomas charles mary patricia "
    "jennifer linda elizabeth barbara susan jessica sarah karen anna li wei carlos sofia "
    "ahmed fatima raj priya kenji yuki lars ingrid pierre camille marco giulia olga ivan "
    "noah emma liam olivia mateo lucia omar leila tom kate ben amy sam zoe"
)
_LAST = _words(
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez "
    "lopez wilson anderson thomas taylor moore jackson martin lee thompson white harris "
    "clark lewis walker hall allen young king wright scott green baker adams nelson hill "
    "campbell mitchell roberts carter phillips evans turner patel nguyen kim mueller rossi "
    "novak silva dubois jensen"
)
_COMPANY_PREFIX = _words(
    "Blue North Bright Iron Silver Red Green Summit Apex Clear Swift True Prime Nova Pine "
    "Harbor Stone Cedar Golden Quantum Vertex Orbit Polar Lumen Atlas Delta Echo Falcon "
    "Maple Oak Sky River Cobalt Amber Crimson Granite Willow Beacon Crest Union"
)
_COMPANY_CORE = _words(
    "wave field point bridge stack works logic path forge line gate scale core leaf peak "
    "ridge shift spark flow sight grid base mark labs ware"
)
_COMPANY_SUFFIX = (
    "Inc",
    "LLC",
    "Ltd",
    "Group",
    "Corp",
    "Systems",
    "Technologies",
    "Partners",
    "Holdings",
    "Solutions",
)
_TLDS = ("com", "com", "com", "io", "co", "net")

_POOL: list[tuple[pl.Series, pl.Series]] = []


def company_pool() -> tuple[pl.Series, pl.Series]:
    """Company names and their email domains (a fixed list of 10,000)."""
    if not _POOL:
        names: list[str] = []
        domains: list[str] = []
        for k, (p, c) in enumerate(itertools.product(_COMPANY_PREFIX, _COMPANY_CORE)):
            for s in range(10):
                suffix = _COMPANY_SUFFIX[(k * 7 + s * 3) % len(_COMPANY_SUFFIX)]
                tld = _TLDS[(k + s) % len(_TLDS)]
                names.append(f"{p}{c} {suffix}")
                domains.append(f"{p.lower()}{c}{suffix.lower() if s % 2 else ''}.{tld}")
        _POOL.append((pl.Series(names), pl.Series(domains)))
    return _POOL[0]


def contacts(rng: np.random.Generator, company: Arr) -> pl.DataFrame:
    """Email and Phone of leads working at `company` (indexes into the company pool)."""
    n = len(company)
    _, domains = company_pool()
    first = pl.Series(_FIRST).gather(rng.integers(0, len(_FIRST), n))
    last = pl.Series(_LAST).gather(rng.integers(0, len(_LAST), n))
    style = pl.Series(rng.choice(4, n, p=(0.5, 0.2, 0.2, 0.1)))
    digit = pl.Series(rng.integers(1, 100, n)).cast(pl.String)
    with_digit = pl.Series(rng.random(n) < 0.08)
    phone_style = pl.Series(rng.integers(0, 5, n))
    area = pl.Series(rng.integers(201, 990, n)).cast(pl.String)
    exchange = pl.Series(rng.integers(200, 1000, n)).cast(pl.String)
    line = pl.Series(rng.integers(0, 10_000, n)).cast(pl.String).str.zfill(4)
    contact = pl.DataFrame(
        {
            "f": first,
            "l": last,
            "style": style,
            "digit": digit,
            "with_digit": with_digit,
            "domain": domains.gather(company),
            "has_email": rng.random(n) >= 0.05,
            "ps": phone_style,
            "a": area,
            "e": exchange,
            "n": line,
            "has_phone": rng.random(n) >= 0.12,
        }
    )
    f, lc, a, e, ln = pl.col("f"), pl.col("l"), pl.col("a"), pl.col("e"), pl.col("n")
    local = (
        pl.when(pl.col("style") == 0)
        .then(pl.concat_str([f, lc], separator="."))
        .when(pl.col("style") == 1)
        .then(f + lc)
        .when(pl.col("style") == 2)
        .then(f.str.slice(0, 1) + lc)
        .otherwise(f)
    )
    local = pl.when(pl.col("with_digit")).then(local + pl.col("digit")).otherwise(local)
    email = pl.when(pl.col("has_email")).then(local + "@" + pl.col("domain"))
    phone = pl.when(pl.col("has_phone")).then(
        pl.when(pl.col("ps") == 0)
        .then(pl.format("+1 ({}) {}-{}", a, e, ln))
        .when(pl.col("ps") == 1)
        .then(pl.format("({}) {}-{}", a, e, ln))
        .when(pl.col("ps") == 2)
        .then(pl.format("{}-{}-{}", a, e, ln))
        .when(pl.col("ps") == 3)
        .then(pl.format("+1 {} {} {}", a, e, ln))
        .otherwise(pl.format("{}.{}.{}", a, e, ln))
    )
    return contact.select(email.alias("Email"), phone.alias("Phone"))
