"""The funnel by stage: where the open records sit, and conversion by cohort month."""

from __future__ import annotations

from typing import Any

from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Section, Table
from funnel.report.sections.common import stage_sort


def funnel(ctx: Context) -> Section | None:
    """Records in each stage now, entries in the last 30 days, open amount and conversion."""
    if not ctx.has("funnel_daily"):
        return None
    stages = ctx.rows(
        """
        select stage, stage_order, in_stage from funnel_daily where day = ? order by stage_order
        """,
        [ctx.as_of],
    )
    if not stages:
        return None
    entered = dict(
        ctx.con.execute(
            """
            select stage, sum(entered) from funnel_daily
            where day > ?::date - 30 and day <= ? group by stage
            """,
            [ctx.as_of, ctx.as_of],
        ).fetchall()
    )
    amounts: dict[str, Any] = {}
    if ctx.has("pipeline_forecast"):
        amounts = dict(
            ctx.con.execute(
                "select stage, sum(open_amount) from pipeline_forecast"
                f" where day = ? and {ctx.in_currency} group by stage",
                [ctx.as_of, ctx.currency],
            ).fetchall()
        )
    conversion: dict[str, tuple[int, int, float | None]] = {}
    if ctx.has("stage_conversion"):
        for stage, ent, adv, rate in ctx.con.execute(
            """
            select stage, sum(entered), sum(advanced), sum(advanced) / nullif(sum(entered), 0)
            from stage_conversion where cohort_month <= ? group by stage
            """,
            [ctx.as_of],
        ).fetchall():
            conversion[stage] = (ent, adv, rate)
    order = [s["stage"] for s in stages]
    spec = charts.bars(
        [{**s, "label": fmt.count(s["in_stage"])} for s in stages],
        category="stage",
        value="in_stage",
        value_title="records in stage",
        value_format=charts.COUNT,
        order=order,
        colour="stage",
        colour_scale=charts.stage_scale(stage_sort(order)),
        legend=False,
        label="label",
    )
    cur = ctx.currency
    table = Table(
        [
            "stage",
            "records now",
            "entered, last 30 d",
            "open amount",
            "ever entered",
            "moved further",
            "conversion",
        ],
        [
            [
                s["stage"],
                fmt.count(s["in_stage"]),
                fmt.count(entered.get(s["stage"])),
                fmt.money(amounts.get(s["stage"]), cur, 0) if s["stage"] in amounts else fmt.NONE,
                *(
                    [fmt.count(c[0]), fmt.count(c[1]), fmt.percent(c[2])]
                    if (c := conversion.get(s["stage"]))
                    else [fmt.NONE] * 3
                ),
            ]
            for s in stages
        ],
        [False] + [True] * 6,
    )
    figures = [
        Figure(
            "Records by stage on the as-of day",
            table,
            spec,
            "conversion: of the records that ever entered the stage, the share that later reached"
            " a stage further down the funnel (stage_conversion, all cohort months).",
        )
    ]
    if ctx.has("stage_conversion"):
        figures.append(_conversion_by_cohort(ctx))
    return Section(
        "funnel",
        "Funnel by stage",
        "funnel_daily, stage_conversion, pipeline_forecast",
        intro="Where every lead and opportunity stands, and how many move on from each stage.",
        figures=figures,
    )


def _conversion_by_cohort(ctx: Context) -> Figure:
    rows = ctx.rows(
        """
        select cohort_month, stage, entered, conversion_rate from stage_conversion
        where cohort_month <= ?
          and cohort_month >= (
              select max(cohort_month) from stage_conversion where cohort_month <= ?
          ) - interval 11 month
          and stage not in ('won', 'lost', 'post_sale')
        order by cohort_month, stage_order
        """,
        [ctx.as_of, ctx.as_of],
    )
    stages = stage_sort(list(dict.fromkeys(r["stage"] for r in rows)))
    for r in rows:
        r["month"] = fmt.month(r["cohort_month"])
    spec = charts.heatmap(
        rows,
        x="stage",
        x_order=stages,
        y="month",
        value="conversion_rate",
        value_title="moved further",
        value_format=charts.PERCENT,
    )
    months = list(dict.fromkeys(r["month"] for r in rows))
    cell = {(r["month"], r["stage"]): r for r in rows}
    table = Table(
        ["entered in", *stages],
        [
            [
                m,
                *(
                    f"{fmt.percent(c['conversion_rate'])} of {fmt.count(c['entered'])}"
                    if (c := cell.get((m, s)))
                    else fmt.NONE
                    for s in stages
                ),
            ]
            for m in reversed(months)
        ],
        [False] + [True] * len(stages),
    )
    return Figure(
        "Conversion to a later stage, by month of entry (last 12 months)",
        table,
        spec,
        "stage_conversion.conversion_rate: of the records that entered the stage in the month,"
        " the share that moved further.",
    )
