"""The report's sections, one function per question, each reading the published tables.

A section returns None when the tables it reads are absent (or hold nothing for the day), so a
new mart gets its section by adding one function to SECTIONS. Sections select and filter
published rows in SQL; every metric shown (win rate, deal size, velocity, conversion rate, days
in stage, ...) is the warehouse's own value, formatted here for people. Where a figure rolls rows
up (conversion over all cohort months; days in stage from stage_transitions where the warehouse
has no stage_durations), the SQL does it over the published rows and the caption says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funnel.commands import installed, shell_command
from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Kpi, Section, Table
from funnel.report.morning import morning
from funnel.schema import CLOSED_STAGES, STAGES

OPEN_STAGES = [s for s in STAGES if s not in CLOSED_STAGES]
TREND_WINDOWS = ("30d", "90d", "365d")
#: owner and source rankings look at the trailing year.
RANK_WINDOW = "365d"
#: the window of stage_durations the report shows.
DURATION_WINDOW = "90d"
#: how many best and worst owners or sources to show.
TOP = 5


def _stage_sort(stages: list[str]) -> list[str]:
    known = [s for s in STAGES if s in stages]
    return known + sorted(s for s in stages if s not in STAGES)


# -- headline ------------------------------------------------------------------------------


def headline(ctx: Context) -> Section | None:
    """Won, lost, win rate, deal size, cycle, velocity and pipeline on the as-of day."""
    if not ctx.has("funnel_metrics_daily"):
        return None
    rows = ctx.rows(
        f"""
        select * from funnel_metrics_daily where day = ? and {ctx.in_currency}
        order by list_position(['30d', '90d', '365d', 'all'], trailing_window)
        """,
        [ctx.as_of, ctx.currency],
    )
    if not rows:
        return None
    cur = ctx.currency
    every = {r["trailing_window"]: r for r in rows}
    m = every.get("all", rows[-1])
    kpis = [
        Kpi("won", "Won", fmt.count(m["won"]), "opportunities, all time"),
        Kpi("lost", "Lost", fmt.count(m["lost"]), "opportunities, all time"),
        Kpi("win_rate", "Win rate", fmt.percent(m["win_rate"]), "won / (won + lost)"),
        Kpi("avg_deal_size", "Average deal size", fmt.money(m["avg_deal_size"], cur), "won"),
        Kpi("median_cycle_days", "Median cycle", fmt.days(m["median_cycle_days"]), "created→won"),
        Kpi("sales_velocity", "Sales velocity", fmt.money(m["sales_velocity"], cur), "per day"),
        Kpi(
            "open_amount",
            "Open pipeline",
            fmt.money(m["open_amount"], cur, 0),
            f"{fmt.count(m['open_count'])} open opportunities",
        ),
        Kpi(
            "weighted_pipeline",
            "Weighted pipeline",
            fmt.money(m["weighted_pipeline"], cur, 0),
            "amount × probability",
        ),
    ]
    table = Table(
        [
            "trailing window",
            "won",
            "lost",
            "win rate",
            "won amount",
            "avg deal size",
            "avg cycle",
            "median cycle",
            "sales velocity",
        ],
        [
            [
                r["trailing_window"],
                fmt.count(r["won"]),
                fmt.count(r["lost"]),
                fmt.percent(r["win_rate"]),
                fmt.money(r["won_amount"], cur),
                fmt.money(r["avg_deal_size"], cur),
                fmt.days(r["avg_cycle_days"]),
                fmt.days(r["median_cycle_days"]),
                fmt.per_day(r["sales_velocity"], cur),
            ]
            for r in rows
        ],
        [False] + [True] * 8,
    )
    return Section(
        "headline",
        "Headline",
        "funnel_metrics_daily",
        intro="Opportunities closed in each window ending on the as-of day; the tiles show all"
        " time up to it.",
        kpis=kpis,
        figures=[Figure("Metrics by window", table)],
        notes=_per_currency_note(ctx),
    )


def _per_currency_note(ctx: Context) -> list[str]:
    """Without [currency] reporting and deals in several currencies: which ones are shown."""
    if not ctx.per_currency:
        return []
    shown = ctx.currency or "no currency"
    others = ", ".join(c or "no currency" for c in ctx.currencies if c != ctx.currency)
    return [
        f"The opportunities are in several currencies and no [currency] reporting is set, so"
        f" amounts are never converted or added up: every figure of this report (counts too)"
        f" is that of the opportunities in {shown}; those in {others} are on their own rows of"
        f" each table (column currency). Set [currency] reporting to see them all together."
    ]


# -- funnel by stage -------------------------------------------------------------------------


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
        colour_scale=charts.stage_scale(_stage_sort(order)),
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
    stages = _stage_sort(list(dict.fromkeys(r["stage"] for r in rows)))
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


# -- trends ----------------------------------------------------------------------------------

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


# -- forecast --------------------------------------------------------------------------------


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
    stages = _stage_sort(list(dict.fromkeys(r["stage"] for r in rows)))
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


# -- where records stall and drop out --------------------------------------------------------

OUTCOMES = (
    "moved forward",
    "moved back",
    "won",
    "dropped out (lost)",
    "still there",
    "left, moment unknown",
)
OUTCOME_COLOURS = ("#4292c6", "#fdae6b", "#2ca02c", "#d62728", "#bdbdbd", "#e7e7e7")


def stalls(ctx: Context) -> Section | None:
    """Time in each open stage, records stuck there now, and where records are lost."""
    if not ctx.has("stage_transitions"):
        return None
    open_stages = ", ".join(f"'{s}'" for s in OPEN_STAGES)
    per_stage = ctx.rows(
        f"""
        select stage, min(stage_order) as stage_order,
               count(*) as entries,
               median(days_in_stage) as median_days,
               avg(days_in_stage) as avg_days,
               count(*) filter (where is_current) as now_in_stage,
               count(*) filter (where is_current and entered_at < ?::date - 30) as stuck,
               count(*) filter (where next_stage = 'lost') as dropped,
               count(*) filter (where next_stage = 'lost') / count(*) as dropped_share
        from stage_transitions
        where stage in ({open_stages}) and entered_at < ?::date + 1
        group by stage order by stage_order
        """,
        [ctx.as_of, ctx.as_of],
    )
    if not per_stage:
        return None
    outcomes = ctx.rows(
        f"""
        select stage,
               case
                   when is_current then 'still there'
                   when next_stage = 'lost' then 'dropped out (lost)'
                   when next_stage in ('won', 'post_sale') then 'won'
                   when direction = 'forward' then 'moved forward'
                   when direction = 'back' then 'moved back'
                   else 'left, moment unknown'
               end as outcome,
               count(*) as entries
        from stage_transitions
        where stage in ({open_stages}) and entered_at < ?::date + 1
        group by all
        """,
        [ctx.as_of],
    )
    order = [s["stage"] for s in per_stage]
    present = [o for o in OUTCOMES if any(r["outcome"] == o for r in outcomes)]
    colours = [OUTCOME_COLOURS[OUTCOMES.index(o)] for o in present]
    outcome_spec = charts.stacked_bars(
        outcomes,
        category="stage",
        category_order=order,
        value="entries",
        value_title="entries into the stage",
        value_format=charts.COUNT,
        part="outcome",
        part_order=present,
        part_colours=colours,
    )
    cells = {(r["stage"], r["outcome"]): r["entries"] for r in outcomes}
    outcome_table = Table(
        ["stage", *present],
        [[s, *(fmt.count(cells.get((s, o), 0)) for o in present)] for s in order],
        [False] + [True] * len(present),
    )
    durations = _stage_durations(ctx) if ctx.has("stage_durations") else None
    time_figure = durations or _time_in_stage(per_stage, order)
    slowest = max(per_stage, key=lambda s: s["median_days"] or -1)
    leakiest = max(per_stage, key=lambda s: s["dropped"])
    notes = []
    if slowest["median_days"]:
        notes.append(
            f"Records stall longest in {slowest['stage']}"
            f" (median {fmt.days(slowest['median_days'])})."
        )
    if leakiest["dropped"]:
        notes.append(
            f"Most records are lost from {leakiest['stage']}: {fmt.count(leakiest['dropped'])}"
            f" entries ({fmt.percent(leakiest['dropped_share'])})."
        )
    if ctx.as_of != ctx.warehouse_day:
        notes.append(
            f"Stage entries up to the as-of day; 'still there' means on the warehouse's day"
            f" ({ctx.warehouse_day})."
        )
    return Section(
        "stalls",
        "Where records stall and drop out",
        ", ".join(
            t
            for t in ("stage_transitions", "stage_durations", "stage_bottlenecks_weekly")
            if ctx.has(t)
        ),
        intro="Every entry of a record into an open stage, by what happened next, and how long"
        " records stay in each stage.",
        figures=[
            Figure("What happened after entering each stage", outcome_table, outcome_spec),
            time_figure,
            *([weekly] if (weekly := _weekly_bottlenecks(ctx)) else []),
        ],
        notes=notes,
    )


def _time_in_stage(per_stage: list[dict[str, Any]], order: list[str]) -> Figure:
    """Days in each open stage from stage_transitions (where stage_durations is absent)."""
    timed = [{**s, "label": fmt.days(s["median_days"])} for s in per_stage if s["median_days"]]
    days_spec = (
        charts.bars(
            timed,
            category="stage",
            value="median_days",
            value_title="median days in stage",
            value_format=",.1f",
            order=order,
            label="label",
        )
        if timed
        else None
    )
    days_table = Table(
        ["stage", "median days", "average days", "now in stage", "there > 30 d", "lost from it"],
        [
            [
                s["stage"],
                fmt.days(s["median_days"]),
                fmt.days(s["avg_days"]),
                fmt.count(s["now_in_stage"]),
                fmt.count(s["stuck"]),
                f"{fmt.count(s['dropped'])} ({fmt.percent(s['dropped_share'])})",
            ]
            for s in per_stage
        ],
        [False] + [True] * 5,
    )
    return Figure(
        "Time in stage",
        days_table,
        days_spec,
        "days from entering to leaving, over the entries in stage_transitions"
        + ("." if timed else ": no record has left these stages at a known moment."),
    )


def _stage_durations(ctx: Context) -> Figure | None:
    """Time in stage and drop-off per open stage over the last 90 days (stage_durations)."""
    rows = ctx.rows(
        """
        select * from stage_durations
        where day = ? and trailing_window = ? and stage not in ('won', 'lost', 'post_sale')
        order by stage_order
        """,
        [ctx.as_of, DURATION_WINDOW],
    )
    if not rows:
        return None
    timed = [{**r, "label": fmt.days(r["median_days_in_stage"])} for r in rows]
    spec = charts.bars(
        [r for r in timed if r["median_days_in_stage"] is not None],
        category="stage",
        value="median_days_in_stage",
        value_title="median days in stage",
        value_format=",.1f",
        order=[r["stage"] for r in rows],
        label="label",
    )
    table = Table(
        [
            "stage",
            "median days",
            "avg days",
            "exits",
            "to lost",
            "entered",
            "dropped",
            "drop-off",
            "still there",
            "median age",
        ],
        [
            [
                r["stage"],
                fmt.days(r["median_days_in_stage"]),
                fmt.days(r["avg_days_in_stage"]),
                fmt.count(r["exited"]),
                f"{fmt.count(r['exited_to_lost'])} ({fmt.percent(r['lost_share'])})",
                fmt.count(r["entered"]),
                fmt.count(r["dropped"]),
                fmt.percent(r["drop_off_rate"]),
                fmt.count(r["still_in_stage"]),
                fmt.days(r["median_open_age_days"]),
            ]
            for r in rows
        ],
        [False] + [True] * 9,
    )
    return Figure(
        "Time in stage and drop-off, last 90 days",
        table,
        spec if any(r["median_days_in_stage"] is not None for r in rows) else None,
        "stage_durations: days in stage of the exits in the window; drop-off = entries that never"
        " reached a further stage / entries; median age of the entries still there.",
    )


def _weekly_bottlenecks(ctx: Context) -> Figure | None:
    """Per week, the stage where records stalled longest and the one that lost most."""
    if not ctx.has("stage_bottlenecks_weekly"):
        return None
    rows = ctx.rows(
        """
        select * from stage_bottlenecks_weekly
        where week <= ? and exits > 0 order by week desc limit 12
        """,
        [ctx.as_of],
    )
    if not rows:
        return None
    stages = _stage_sort(list({r["stall_stage"] for r in rows if r["stall_stage"]}))
    weeks = [str(r["week"]) for r in reversed(rows)]
    spec = charts.stacked_bars(
        [
            {"week": str(r["week"]), "stage": r["stall_stage"], "days": r["stall_median_days"]}
            for r in rows
            if r["stall_stage"]
        ],
        category="week",
        category_order=weeks,
        value="days",
        value_title="median days in the slowest stage",
        value_format=",.1f",
        part="stage",
        part_order=stages,
        part_colours=[charts.STAGE_COLOURS.get(s, "#999") for s in stages],
        horizontal=False,
        category_title="week starting",
    )
    table = Table(
        ["week", "exits", "stalled longest", "median days", "lost most", "lost", "share"],
        [
            [
                str(r["week"]) + ("" if r["is_complete"] else " (so far)"),
                fmt.count(r["exits"]),
                r["stall_stage"] or fmt.NONE,
                fmt.days(r["stall_median_days"]),
                r["loss_stage"] or fmt.NONE,
                fmt.count(r["loss_exits"]),
                fmt.percent(r["loss_share"]),
            ]
            for r in rows
        ],
        [False, True, False, True, False, True, True],
    )
    return Figure(
        "Bottleneck of each week (last 12 weeks with exits)",
        table,
        spec,
        "stage_bottlenecks_weekly: bars show the stage whose exits that week took longest.",
    )


# -- owners and sources ----------------------------------------------------------------------


def _best_and_worst(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """rows ranked best first: the top and the bottom TOP, each tagged with its group."""
    n = len(rows)
    ranked = list(enumerate(rows, start=1))
    picked = ranked if n <= 2 * TOP else ranked[:TOP] + ranked[-TOP:]
    return [
        {**r, "rank": rank, "group": "best" if rank <= (n + 1) // 2 else "worst"}
        for rank, r in picked
    ]


def owners(ctx: Context) -> Section | None:
    """The best and worst owners by won amount over the last 365 days."""
    if not ctx.has("owner_metrics_daily"):
        return None
    rows = ctx.rows(
        f"""
        select * from owner_metrics_daily
        where day = ? and trailing_window = ? and won + lost > 0 and {ctx.in_currency}
        order by won_amount desc nulls last, win_rate desc nulls last, owner
        """,
        [ctx.as_of, RANK_WINDOW, ctx.currency],
    )
    if not rows:
        return None
    picked = _best_and_worst(rows)
    cur = ctx.currency
    spec = charts.bars(
        picked,
        category="owner",
        value="won_amount",
        value_title="won amount",
        value_format=charts.MONEY,
        order=[r["owner"] for r in picked],
        colour="group",
        colour_scale=charts.best_worst_scale(),
    )
    table = Table(
        ["#", "owner", "won", "lost", "win rate", "won amount", "avg deal size", "open pipeline"],
        [
            [
                str(r["rank"]),
                r["owner"],
                fmt.count(r["won"]),
                fmt.count(r["lost"]),
                fmt.percent(r["win_rate"]),
                fmt.money(r["won_amount"], cur, 0),
                fmt.money(r["avg_deal_size"], cur),
                fmt.money(r["open_amount"], cur, 0),
            ]
            for r in picked
        ],
        [True, False] + [True] * 6,
    )
    shown = "every owner" if len(rows) <= 2 * TOP else f"the best and worst {TOP} of {len(rows)}"
    return Section(
        "owners",
        "Owners",
        "owner_metrics_daily",
        intro=f"Owners with a close in the last 365 days, ranked by won amount ({shown}).",
        figures=[Figure("Won amount by owner, last 365 days", table, spec)],
    )


def sources(ctx: Context) -> Section | None:
    """The best and worst lead sources by lead-to-win rate over the last 365 days."""
    if not ctx.has("source_metrics_daily"):
        return None
    rows = ctx.rows(
        """
        select * from source_metrics_daily
        where day = ? and trailing_window = ? and leads > 0
        order by lead_to_win_rate desc nulls last, won desc, source
        """,
        [ctx.as_of, RANK_WINDOW],
    )
    if not rows:
        return None
    picked = _best_and_worst(rows)
    spec = charts.bars(
        picked,
        category="source",
        value="lead_to_win_rate",
        value_title="lead-to-win rate",
        value_format=charts.PERCENT,
        order=[r["source"] for r in picked],
        colour="group",
        colour_scale=charts.best_worst_scale(),
    )
    table = Table(
        ["#", "source", "leads", "qualified", "converted", "won", "lead-to-win"],
        [
            [
                str(r["rank"]),
                r["source"],
                fmt.count(r["leads"]),
                fmt.count(r["qualified"]),
                fmt.count(r["converted"]),
                fmt.count(r["won"]),
                fmt.percent(r["lead_to_win_rate"]),
            ]
            for r in picked
        ],
        [True, False] + [True] * 5,
    )
    return Section(
        "sources",
        "Lead sources",
        "source_metrics_daily",
        intro="Leads created in the last 365 days by source, ranked by the share that was won.",
        figures=[Figure("Lead-to-win rate by source, last 365 days", table, spec)],
    )


def qualification(ctx: Context) -> Section | None:
    """Does BANT qualification pick the winners? Each status against what its leads did."""
    if not ctx.has("qualification_outcomes"):
        return None
    rows = ctx.rows(
        """
        select * from qualification_outcomes
        order by list_position(['qualified', 'nurture', 'disqualified'], status)
        """
    )
    if not rows or not any(r["leads"] for r in rows):
        return None
    spec = charts.bars(
        [{**r, "label": fmt.percent(r["won_share"])} for r in rows],
        category="status",
        value="won_share",
        value_title="share of leads won",
        value_format=charts.PERCENT,
        order=[r["status"] for r in rows],
        label="label",
    )
    table = Table(
        ["status", "leads", "share", "avg score", "converted", "won", "won amount", "lift"],
        [
            [
                r["status"],
                fmt.count(r["leads"]),
                fmt.percent(r["share_of_leads"]),
                fmt.NONE if r["avg_score"] is None else f"{r['avg_score']:,.1f}",
                fmt.percent(r["converted_share"]),
                fmt.percent(r["won_share"]),
                # its own currency: without [currency] reporting a status's won amounts in
                # several currencies have no sum
                "several currencies"
                if r["won_amount"] is None
                else fmt.money(r["won_amount"], r["currency"], 0),
                fmt.NONE if r["won_share_lift"] is None else f"{r['won_share_lift']:,.2f} ×",
            ]
            for r in rows
        ],
        [False] + [True] * 7,
    )
    return Section(
        "qualification",
        "Lead qualification",
        "qualification_outcomes",
        intro="The BANT status of every lead against what the leads did: a lift above 1 picks"
        " winners better than the average lead.",
        figures=[Figure("Won share by qualification status", table, spec)],
    )


def touches(ctx: Context) -> Section | None:
    """Activities per won and per lost opportunity, by activity type."""
    if not ctx.has("activity_outcomes"):
        return None
    rows = ctx.rows(
        """
        select * from activity_outcomes where opportunities > 0
        order by activity_type = '(all)' desc, activity_type, outcome desc
        """
    )
    if not rows or not any(r["activities"] for r in rows):
        return None
    types = list(dict.fromkeys(r["activity_type"] for r in rows))
    spec = charts.grouped_bars(
        rows,
        category="activity_type",
        category_order=types,
        value="avg_activities",
        value_title="activities per opportunity",
        value_format=",.1f",
        group="outcome",
        group_order=["won", "lost"],
        group_colours=["#2ca02c", "#d62728"],
        category_title="activity type",
    )
    table = Table(
        ["type", "outcome", "opportunities", "with one", "activities", "average", "median"],
        [
            [
                r["activity_type"],
                r["outcome"],
                fmt.count(r["opportunities"]),
                fmt.count(r["opportunities_with_activity"]),
                fmt.count(r["activities"]),
                fmt.NONE if r["avg_activities"] is None else f"{r['avg_activities']:,.2f}",
                fmt.NONE if r["median_activities"] is None else f"{r['median_activities']:g}",
            ]
            for r in rows
        ],
        [False, False] + [True] * 5,
    )
    return Section(
        "touches",
        "Touches per won and lost opportunity",
        "activity_outcomes",
        intro="Activities logged on each closed opportunity, by type (those without any count"
        " as 0).",
        figures=[Figure("Activities per opportunity", table, spec)],
    )


# -- data quality ----------------------------------------------------------------------------


def quality(ctx: Context) -> Section | None:
    """The run's rows read, loaded and quarantined per source; failed checks; the query."""
    if not ctx.has("pipeline_runs"):
        return None
    runs = ctx.rows(
        """
        select run_id, status, started_at, rows_read, rows_loaded, rows_quarantined, rows_warned
        from pipeline_runs where as_of = ? order by started_at desc limit 1
        """,
        [ctx.as_of],
    )
    if not runs:
        return Section(
            "quality",
            "Data quality",
            "pipeline_runs",
            notes=[f"No run of {ctx.as_of} in pipeline_runs."],
        )
    run = runs[0]
    per_source = ctx.rows(
        """
        select s.source, s.entity, s.rows_read, s.rows_loaded, s.rows_quarantined, s.rows_warned
        from (select unnest(sources) as s from pipeline_runs where run_id = ?)
        order by s.source
        """,
        [run["run_id"]],
    )
    parts = [
        {"source": s["source"], "part": part, "rows": s[f"rows_{part}"]}
        for s in per_source
        for part in ("loaded", "quarantined")
    ]
    spec = charts.stacked_bars(
        parts,
        category="source",
        category_order=[s["source"] for s in per_source],
        value="rows",
        value_title="rows read",
        value_format=charts.COUNT,
        part="part",
        part_order=["loaded", "quarantined"],
        part_colours=["#4292c6", "#d62728"],
    )
    rows_table = Table(
        ["source", "entity", "read", "loaded", "quarantined", "warned"],
        [
            [
                s["source"],
                s["entity"],
                fmt.count(s["rows_read"]),
                fmt.count(s["rows_loaded"]),
                fmt.count(s["rows_quarantined"]),
                fmt.count(s["rows_warned"]),
            ]
            for s in per_source
        ],
        [False, False, True, True, True, True],
    )
    kpis = [
        Kpi("rows_read", "Rows read", fmt.count(run["rows_read"])),
        Kpi("rows_loaded", "Loaded", fmt.count(run["rows_loaded"])),
        Kpi("rows_quarantined", "Quarantined", fmt.count(run["rows_quarantined"])),
        Kpi("rows_warned", "Warned", fmt.count(run["rows_warned"]), "loaded, counted"),
    ]
    figures = [Figure("Rows per source", rows_table, spec)]
    notes = [f"Run {run['run_id']} ({run['status']}), started {run['started_at']:%Y-%m-%d %H:%M}."]
    if ctx.has("dq_results"):
        failed = ctx.rows(
            """
            select source, "check", severity, column_name, rows_failed, rows_checked, failed_share
            from dq_results where run_id = ? and not passed
            order by source, rows_failed desc, "check"
            """,
            [run["run_id"]],
        )
        if failed:
            figures.append(
                Figure(
                    "Failed checks",
                    Table(
                        ["source", "check", "severity", "column", "rows failed", "of", "share"],
                        [
                            [
                                f["source"],
                                f["check"],
                                f["severity"],
                                f["column_name"] or "",
                                fmt.count(f["rows_failed"]),
                                fmt.count(f["rows_checked"]),
                                fmt.percent(f["failed_share"]),
                            ]
                            for f in failed
                        ],
                        [False, False, False, False, True, True, True],
                    ),
                    caption="errors are quarantined; warnings are loaded and counted.",
                )
            )
        else:
            notes.append("Every check passed.")
    code = []
    if ctx.has("dq_quarantine"):
        sql = (
            "select source, source_file, source_line, reasons, original_row\n"
            "from dq_quarantine\n"
            f"where run_id = '{run['run_id']}'\n"
            "order by source, source_file, source_line;"
        )
        shell = shell_command(installed("duckdb"), "-readonly", str(ctx.warehouse_path))
        code.append(
            (f"The quarantined rows: open the warehouse in the DuckDB shell, {shell}, and run", sql)
        )
    return Section(
        "quality",
        "Data quality of the run",
        "pipeline_runs, dq_results, dq_quarantine",
        intro="Every row read is either loaded or quarantined with its reasons.",
        kpis=kpis,
        figures=figures,
        notes=notes,
        code=code,
    )


#: The page, top to bottom. A new section: a function (Context) -> Section | None, added here.
SECTIONS: list[Callable[[Context], Section | None]] = [
    morning,
    headline,
    funnel,
    trends,
    forecast,
    stalls,
    owners,
    sources,
    qualification,
    touches,
    quality,
]


def build_sections(ctx: Context) -> list[Section]:
    return [s for make in SECTIONS if (s := make(ctx)) is not None]
