"""The report's sections, one module per question, each reading the published tables.

A section is a function (Context) -> Section | None; it returns None when the tables it reads are
absent (or hold nothing for the day). SECTIONS is the page, top to bottom: a new mart gets its
section by adding a module here and its function to SECTIONS. Sections select and filter
published rows in SQL; every metric shown (win rate, deal size, velocity, conversion rate, days
in stage, ...) is the warehouse's own value, formatted here for people. Where a figure rolls rows
up (conversion over all cohort months; days in stage from stage_transitions where the warehouse
has no stage_durations), the SQL does it over the published rows and the caption says so.
"""

from __future__ import annotations

from collections.abc import Callable

from funnel.report.model import Context, Section
from funnel.report.sections import (
    forecast,
    headline,
    leads,
    morning,
    quality,
    quarter,
    rankings,
    stages,
    stalls,
    trends,
)

#: The page, top to bottom. A new section: a function (Context) -> Section | None, added here.
SECTIONS: list[Callable[[Context], Section | None]] = [
    morning.morning,
    quarter.this_quarter,
    headline.headline,
    stages.funnel,
    trends.trends,
    forecast.forecast,
    stalls.stalls,
    rankings.owners,
    rankings.sources,
    leads.qualification,
    leads.touches,
    quality.quality,
]


def build_sections(ctx: Context) -> list[Section]:
    """The sections that have something to show, in SECTIONS order."""
    return [s for make in SECTIONS if (s := make(ctx)) is not None]
