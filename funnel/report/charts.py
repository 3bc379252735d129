"""Vega-Lite specs built with Altair; the page renders them in the browser (inline vega-embed).

Every chart gets its data inline (`values`), so the page needs nothing from the network.
Axis and tooltip formats are d3-format strings; the page's locale prints percentages as
'63.2 %' like the tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import altair as alt

from transforms.schema import STAGES

WIDTH = 440
#: Stage colours: open stages in blues, won green, lost red, post-sale teal.
STAGE_COLOURS = {
    "prospecting": "#9ecae1",
    "qualification": "#6baed6",
    "meeting": "#4292c6",
    "proposal": "#2171b5",
    "negotiation": "#08519c",
    "won": "#2ca02c",
    "lost": "#d62728",
    "post_sale": "#17becf",
}
MONEY = ",.0f"
PERCENT = ".1%"
COUNT = ",d"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


#: Charts name their data; the rows join the spec after Altair validated it (validating every
#: row against the schema costs seconds on a two-year trend).
DATA = alt.Data(name="table")


def _spec(chart: alt.TopLevelMixin, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    # Not validated here: the specs are fixed by this module's code, and validating the two
    # dozen of a report against the Vega-Lite schema took a third of its rendering on every run.
    # tests/report/test_report_charts.py validates every chart of the sample's report.
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec["datasets"] = {"table": [{k: _plain(v) for k, v in r.items()} for r in rows]}
    return spec


def stage_scale(stages: Sequence[str] = STAGES) -> alt.Scale:
    return alt.Scale(domain=list(stages), range=[STAGE_COLOURS[s] for s in stages])


def best_worst_scale() -> alt.Scale:
    return alt.Scale(domain=["best", "worst"], range=["#2ca02c", "#d62728"])


def bars(
    rows: Sequence[dict[str, Any]],
    *,
    category: str,
    value: str,
    value_title: str,
    value_format: str,
    order: Sequence[str] | None = None,
    colour: str | None = None,
    colour_scale: alt.Scale | None = None,
    colour_title: str = "",
    legend: bool = True,
    label: str | None = None,
) -> dict[str, Any]:
    """Horizontal bars, one per category, in the given order (else largest first)."""
    sort: Any = list(order) if order is not None else "-x"
    base = alt.Chart(DATA).encode(
        y=alt.Y(f"{category}:N", sort=sort, title=None),
        x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
        tooltip=[
            alt.Tooltip(f"{category}:N"),
            alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
        ],
    )
    if colour:
        marks = base.mark_bar().encode(
            color=alt.Color(
                f"{colour}:N",
                scale=colour_scale or alt.Undefined,
                title=colour_title or None,
                legend=alt.Legend(orient="bottom") if legend else None,
            )
        )
    else:
        marks = base.mark_bar(color="#4292c6")
    chart: alt.TopLevelMixin = marks
    if label:
        chart = marks + base.mark_text(align="left", dx=3, color="#333").encode(
            text=alt.Text(f"{label}:N")
        )
    return _spec(chart.properties(width=WIDTH, height=alt.Step(22)), rows)


def stacked_bars(
    rows: Sequence[dict[str, Any]],
    *,
    category: str,
    category_order: Sequence[str],
    value: str,
    value_title: str,
    value_format: str,
    part: str,
    part_order: Sequence[str],
    part_colours: Sequence[str] | None = None,
    horizontal: bool = True,
    category_title: str | None = None,
) -> dict[str, Any]:
    """Bars split into parts (a stage, an outcome), stacked in part_order."""
    scale = (
        alt.Scale(domain=list(part_order), range=list(part_colours))
        if part_colours
        else alt.Scale(domain=list(part_order))
    )
    cat = alt.Y if horizontal else alt.X
    val = alt.X if horizontal else alt.Y
    chart = (
        alt.Chart(DATA)
        .transform_calculate(
            part_rank=f"indexof({json.dumps(list(part_order))}, datum[{json.dumps(part)}])"
        )
        .mark_bar()
        .encode(
            cat(f"{category}:N", sort=list(category_order), title=category_title),
            val(f"sum({value}):Q", title=value_title, axis=alt.Axis(format=value_format)),
            color=alt.Color(
                f"{part}:N", scale=scale, title=None, legend=alt.Legend(orient="bottom")
            ),
            order=alt.Order("part_rank:Q"),
            tooltip=[
                alt.Tooltip(f"{category}:N"),
                alt.Tooltip(f"{part}:N"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
            ],
        )
    )
    size = {"height": alt.Step(22)} if horizontal else {"height": 240}
    return _spec(chart.properties(width=WIDTH, **size), rows)


def trend(
    rows: Sequence[dict[str, Any]],
    *,
    value: str,
    value_title: str,
    value_format: str,
    series: str = "trailing_window",
    series_order: Sequence[str] = ("30d", "90d", "365d"),
) -> dict[str, Any]:
    """One line per window over the days."""
    rows = [{"day": r["day"], series: r[series], value: r[value]} for r in rows]
    chart = (
        alt.Chart(DATA)
        .mark_line(interpolate="monotone", strokeWidth=1.5)
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%Y-%m")),
            y=alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
            color=alt.Color(
                f"{series}:N",
                scale=alt.Scale(domain=list(series_order), range=["#9ecae1", "#4292c6", "#08306b"]),
                title="trailing window",
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("day:T", format="%Y-%m-%d"),
                alt.Tooltip(f"{series}:N"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
            ],
        )
        .properties(width=WIDTH, height=200)
    )
    return _spec(chart, rows)


def heatmap(
    rows: Sequence[dict[str, Any]],
    *,
    x: str,
    x_order: Sequence[str],
    y: str,
    value: str,
    value_title: str,
    value_format: str,
) -> dict[str, Any]:
    """A grid of cells coloured by value (e.g. conversion by cohort month and stage)."""
    chart = (
        alt.Chart(DATA)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:N", sort=list(x_order), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{y}:O", title=None, sort="descending"),
            color=alt.Color(
                f"{value}:Q",
                title=value_title,
                scale=alt.Scale(scheme="blues", domain=[0, 1]),
                legend=alt.Legend(format=value_format, orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip(f"{y}:O"),
                alt.Tooltip(f"{x}:N"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
            ],
        )
        .properties(width=WIDTH, height=alt.Step(18))
    )
    return _spec(chart, rows)


def grouped_bars(
    rows: Sequence[dict[str, Any]],
    *,
    category: str,
    category_order: Sequence[str],
    value: str,
    value_title: str,
    value_format: str,
    group: str,
    group_order: Sequence[str],
    group_colours: Sequence[str],
    category_title: str | None = None,
) -> dict[str, Any]:
    """Bars side by side within each category (e.g. forecast and won per month)."""
    chart = (
        alt.Chart(DATA)
        .mark_bar()
        .encode(
            x=alt.X(
                f"{category}:N",
                sort=list(category_order),
                title=category_title,
                axis=alt.Axis(labelAngle=0 if len(category_order) <= 8 else -45),
            ),
            xOffset=alt.XOffset(f"{group}:N", sort=list(group_order)),
            y=alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
            color=alt.Color(
                f"{group}:N",
                scale=alt.Scale(domain=list(group_order), range=list(group_colours)),
                title=None,
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip(f"{category}:N"),
                alt.Tooltip(f"{group}:N"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
            ],
        )
        .properties(width=WIDTH, height=220)
    )
    return _spec(chart, rows)
