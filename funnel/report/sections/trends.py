"""Trends: the headline metrics over the trailing windows, day by day."""

from __future__ import annotations

from typing import Any

from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Section, Table

TREND_WINDOWS = ("30d", "90d", "365d")
TREND_METRICS = (
    ("win_rate", "Win rate", charts.PERCENT),
    ("avg_deal_size", "Average deal size", charts.MONEY),
    ("avg_cycle_days", "Average cycle (days)", ",.1f"),
    ("sales_velocity", "Sales velocity (per day)", charts.MONEY),
)


def trends(ctx: Context) -> Section | None:
    """Win rate, deal size, cycle and velocity over time in the 30/90/365-day windows."""
    if not ctx.has("funnel_metrics_daily"):
        return None
    span = ctx.con.execute(
        "select count(distinct day) from funnel_metrics_daily where day <= ?", [ctx.as_of]
    ).fetchall()[0][0]
    # a daily point up to about two years of days, else one a week (days a whole week before
    # the as-of day): sampled rows, never re-aggregated
    step = 1 if span <= 750 else 7
    rows = ctx.rows(
        f"""
        select day, trailing_window, win_rate, avg_deal_size, avg_cycle_days, sales_velocity
        from funnel_metrics_daily
        where day <= ? and trailing_window in ('30d', '90d', '365d')
          and date_diff('day', day, ?::date) % ? = 0 and {ctx.in_currency}
        order by day, trailing_window
        """,
        [ctx.as_of, ctx.as_of, step, ctx.currency],
    )
    if not rows:
        return None
    month_ends = ctx.rows(
        f"""
        select day, trailing_window, win_rate, avg_deal_size, avg_cycle_days, sales_velocity
        from funnel_metrics_daily
        where day <= ? and trailing_window in ('30d', '90d', '365d')
          and (day = last_day(day) or day = ?) and day > ?::date - interval 1 year
          and {ctx.in_currency}
        order by day desc, trailing_window
        """,
        [ctx.as_of, ctx.as_of, ctx.as_of, ctx.currency],
    )
    cur = ctx.currency
    formatters = {
        "win_rate": fmt.percent,
        "avg_deal_size": lambda v: fmt.money(v, cur),
        "avg_cycle_days": fmt.days,
        "sales_velocity": lambda v: fmt.per_day(v, cur),
    }
    by_day: dict[Any, dict[str, dict[str, Any]]] = {}
    for r in month_ends:
        by_day.setdefault(r["day"], {})[r["trailing_window"]] = r
    figures = []
    for metric, title, d3 in TREND_METRICS:
        spec = charts.trend(rows, value=metric, value_title=title, value_format=d3)
        table = Table(
            ["day", *TREND_WINDOWS],
            [
                [
                    str(day),
                    *(
                        formatters[metric](w[metric]) if (w := windows.get(name)) else fmt.NONE
                        for name in TREND_WINDOWS
                    ),
                ]
                for day, windows in by_day.items()
            ],
            [False, True, True, True],
        )
        figures.append(Figure(title, table, spec))
    note = "one point a day" if step == 1 else "one point a week"
    return Section(
        "trends",
        "Trends",
        "funnel_metrics_daily",
        intro=f"Each day's metrics over the trailing 30, 90 and 365 days ({note}); the tables"
        " list month ends of the last year and the as-of day.",
        figures=figures,
    )
