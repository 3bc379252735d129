"""Where records stall and drop out: outcomes by stage, time in stage, weekly bottlenecks."""

from __future__ import annotations

from typing import Any

from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Section, Table
from funnel.report.sections.common import stage_sort
from transforms.schema import CLOSED_STAGES, STAGES

OPEN_STAGES = [s for s in STAGES if s not in CLOSED_STAGES]
#: the window of stage_durations the report shows.
DURATION_WINDOW = "90d"

#: What became of each entry into a stage, in the order the chart stacks and the table lists them.
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
    stages = stage_sort(list({r["stall_stage"] for r in rows if r["stall_stage"]}))
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
