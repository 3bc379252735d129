"""Leads before they convert: qualification and the touches it took."""

from __future__ import annotations

from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Section, Table


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
