"""The forecast: what the open pipeline should close, and how the lookback was chosen."""

from __future__ import annotations

from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Section, Table
from funnel.report.sections.common import stage_sort


def forecast(ctx: Context) -> Section | None:
    """The open pipeline weighted by probability, by expected close month and stage."""
    if not ctx.has("pipeline_forecast"):
        return None
    rows = ctx.rows(
        f"select * from pipeline_forecast where day = ? and {ctx.in_currency}"
        " order by close_month nulls first, stage",
        [ctx.as_of, ctx.currency],
    )
    if not rows:
        return Section(
            "forecast",
            "Weighted forecast by close month",
            "pipeline_forecast",
            notes=[
                f"pipeline_forecast keeps only the warehouse's as-of day ({ctx.warehouse_day});"
                " open a warehouse published for this day to see its forecast."
            ],
        )
    for r in rows:
        r["month"] = fmt.month(r["close_month"])
    months = list(dict.fromkeys(r["month"] for r in rows))
    stages = stage_sort(list(dict.fromkeys(r["stage"] for r in rows)))
    weighted = any(r["weighted_amount"] for r in rows)
    spec = (
        charts.stacked_bars(
            rows,
            category="month",
            category_order=months,
            value="weighted_amount",
            value_title="weighted amount",
            value_format=charts.MONEY,
            part="stage",
            part_order=stages,
            part_colours=[charts.STAGE_COLOURS.get(s, "#999") for s in stages],
            horizontal=False,
            category_title="expected close month",
        )
        if weighted
        else None
    )
    totals = ctx.rows(
        f"""
        select close_month, sum(open_count) as open_count, sum(open_amount) as open_amount,
               sum(weighted_amount) as weighted_amount, bool_or(is_overdue) as is_overdue
        from pipeline_forecast where day = ? and {ctx.in_currency}
        group by close_month order by close_month nulls first
        """,
        [ctx.as_of, ctx.currency],
    )
    cur = ctx.currency
    table = Table(
        ["close month", "open", "open amount", "weighted", ""],
        [
            [
                fmt.month(t["close_month"]),
                fmt.count(t["open_count"]),
                fmt.money(t["open_amount"], cur, 0),
                fmt.money(t["weighted_amount"], cur, 0),
                "overdue" if t["is_overdue"] else "",
            ]
            for t in totals
        ],
        [False, True, True, True, False],
        folded=len(totals) > 14,
    )
    return Section(
        "forecast",
        "Weighted forecast by close month",
        "pipeline_forecast",
        intro="Open opportunities by expected close month: amount × probability (the record's"
        " own, else the stage default). Months before the as-of month are overdue.",
        figures=[
            Figure(
                "Weighted pipeline by expected close month",
                table,
                spec,
                "" if weighted else "no chart: the open opportunities carry no amount.",
            ),
            *([lookback] if (lookback := _forecast_lookback(ctx)) else []),
        ],
    )


#: forecast_lookback.basis as the report says it.
LOOKBACK_BASIS = {
    "snapshot": "that day (snapshots)",
    "stage_history": "that day (stage history; close dates today's)",
    "current": "today",
    "mixed": "mixed",
}


def _forecast_lookback(ctx: Context) -> Figure | None:
    """Each month's weighted pipeline at its start against what the month won."""
    if not ctx.has("forecast_lookback"):
        return None
    rows = ctx.rows(
        f"""
        select * from forecast_lookback
        where close_month <= ? and {ctx.in_currency} order by close_month desc limit 12
        """,
        [ctx.as_of, ctx.currency],
    )
    if not rows:
        return None
    rows.reverse()
    months = [fmt.month(r["close_month"]) for r in rows]
    bars = [
        {"month": fmt.month(r["close_month"]), "measure": measure, "amount": r[column]}
        for r in rows
        for measure, column in (("weighted forecast", "weighted_amount"), ("won", "won_amount"))
    ]
    cur = ctx.currency
    spec = charts.grouped_bars(
        bars,
        category="month",
        category_order=months,
        value="amount",
        value_title="amount",
        value_format=charts.MONEY,
        group="measure",
        group_order=["weighted forecast", "won"],
        group_colours=["#9ecae1", "#2ca02c"],
        category_title="close month",
    )
    table = Table(
        ["month", "open at start", "weighted", "won", "won / weighted", "values as of"],
        [
            [
                fmt.month(r["close_month"]) + ("" if r["is_complete"] else " (so far)"),
                fmt.count(r["open_count"]),
                fmt.money(r["weighted_amount"], cur, 0),
                fmt.money(r["won_amount"], cur, 0),
                fmt.NONE
                if r["won_to_weighted_ratio"] is None
                else f"{r['won_to_weighted_ratio']:,.2f}",
                LOOKBACK_BASIS.get(r["basis"], fmt.NONE),
            ]
            for r in reversed(rows)
        ],
        [False, True, True, True, True, False],
    )
    return Figure(
        "Forecast against won, last 12 months",
        table,
        spec,
        "forecast_lookback: the weighted pipeline on each month's first day for that month, and"
        " what the month won; above 1 the month beat its forecast. Values as of: where each"
        " month's amounts, stages and close dates come from; 'today' means nothing earlier was"
        " recorded, so that month is rebuilt from today's values, not the forecast of the day.",
    )
