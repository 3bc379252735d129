"""The report's opening section: what changed, and what to do this morning.

The as-of day and its last 7 days against the 7 days before (stage moves, won, lost, deals and
leads created), the metric breaches of metric_checks, the ten open deals most at risk
(open_deal_health) and the leads waiting for a first touch (lead_followup), each with its owner.
Every figure is a count or a value of the published tables; this module only selects and
formats them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Kpi, Section, Table

#: How many deals and waiting leads the section lists.
LISTED = 10

#: (label, SQL of one count between two days, the table and the columns it reads).
CHANGES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "stage moves",
        "select count(*) from stage_transitions where cast(exited_at as date) between ? and ?",
        "stage_transitions",
        ("exited_at",),
    ),
    (
        "won",
        "select count(*) from opportunities where is_won"
        " and cast(closed_at as date) between ? and ?",
        "opportunities",
        ("is_won", "closed_at"),
    ),
    (
        "lost",
        "select count(*) from opportunities where is_lost"
        " and cast(closed_at as date) between ? and ?",
        "opportunities",
        ("is_lost", "closed_at"),
    ),
    (
        "opportunities created",
        "select count(*) from opportunities where cast(created_at as date) between ? and ?",
        "opportunities",
        ("created_at",),
    ),
    (
        "leads created",
        "select count(*) from leads where created_date between ? and ?",
        "leads",
        ("created_date",),
    ),
)


def _has_columns(ctx: Context, table: str, columns: tuple[str, ...]) -> bool:
    """The table is published with these columns (a warehouse of an older version may lack
    them: the row steps aside, as a section does without its table)."""
    if not ctx.has(table):
        return False
    found = ctx.con.execute(
        "select count(*) from information_schema.columns"
        " where table_name = ? and list_contains(?, column_name)",
        [table, list(columns)],
    ).fetchone()
    return found is not None and int(found[0]) == len(columns)


def _count(ctx: Context, sql: str, first: Any, last: Any) -> int:
    row = ctx.con.execute(sql, [first, last]).fetchone()
    return int(row[0]) if row else 0


def _change(now: int, before: int) -> str:
    if before == 0:
        return fmt.NONE if now == 0 else "new"
    return f"{(now - before) / before * 100:+.0f} %"


def _changes(ctx: Context) -> Figure | None:
    """The as-of day, its last 7 days and the 7 days before, per kind of change."""
    day = ctx.as_of
    week = (day - timedelta(days=6), day)
    before = (day - timedelta(days=13), day - timedelta(days=7))
    rows = []
    for label, sql, table, columns in CHANGES:
        if not _has_columns(ctx, table, columns):
            continue
        today = _count(ctx, sql, day, day)
        this_week = _count(ctx, sql, *week)
        last_week = _count(ctx, sql, *before)
        rows.append(
            [
                label,
                fmt.count(today),
                fmt.count(this_week),
                fmt.count(last_week),
                _change(this_week, last_week),
            ]
        )
    if not rows:
        return None
    header = [
        "",
        f"{day:%Y-%m-%d}",
        f"{week[0]:%m-%d} to {week[1]:%m-%d}",
        f"{before[0]:%m-%d} to {before[1]:%m-%d}",
        "change",
    ]
    return Figure("What changed", Table(header, rows, [False, True, True, True, True]))


def _value(metric: str, value: float | None, currency: str | None) -> str:
    if metric in ("win_rate", "stage_conversion", "lead_to_win"):
        return fmt.percent(value)
    if metric == "median_cycle_days":
        return fmt.days(value)
    if metric == "sales_velocity":
        return fmt.per_day(value, currency)
    if currency is not None:
        return fmt.money(value, currency, 0)
    return fmt.count(value)


def _breaches(ctx: Context) -> tuple[Figure | None, int]:
    if not ctx.has("metric_checks"):
        return None, 0
    rows = ctx.rows(
        """
        select * from metric_checks
        where status in ('alert', 'warn') and not is_muted
        order by status = 'alert' desc, z, metric, dimension, dimension_value
        """
    )
    table = Table(
        ["status", "metric", "for", "window", "value", "baseline", "n", "z"],
        [
            [
                r["status"],
                r["metric"],
                "all" if r["dimension"] == "all" else f"{r['dimension']} {r['dimension_value']}",
                r["trailing_window"],
                _value(r["metric"], r["value"], r["currency"]),
                _value(r["metric"], r["baseline"], r["currency"]),
                fmt.count(r["n"]),
                fmt.NONE if r["z"] is None else f"{r['z']:.1f}",
            ]
            for r in rows
        ],
        [False, False, False, False, True, True, True, True],
    )
    caption = "" if rows else "No metric is below its recent past."
    return Figure("Metric breaches", table, caption=caption), len(rows)


def _why(r: dict[str, Any]) -> str:
    reasons = []
    if r["is_stalled"]:
        reasons.append(f"stalled {r['days_in_stage']} d in {r['stage']}")
    if r["is_activity_stale"]:
        since = r["days_since_activity"]
        reasons.append("no activity" if since is None else f"no activity for {since} d")
    if r["is_past_close"]:
        reasons.append("close date passed")
    if r["push_count"]:
        reasons.append(f"pushed {r['push_count']}x")
    if r["missing_field_count"]:
        reasons.append("missing " + ", ".join(r["missing_fields"]))
    return "; ".join(reasons)


def _deals(ctx: Context) -> tuple[Figure | None, int]:
    if not ctx.has("open_deal_health"):
        return None, 0
    rows = ctx.rows(
        f"""
        select * from open_deal_health where risk_score > 0
        order by risk_score desc, amount desc nulls last, opportunity_id
        limit {LISTED}
        """
    )
    at_risk = ctx.con.execute("select count(*) from open_deal_health where risk_score > 0")
    total = int((at_risk.fetchone() or (0,))[0])
    table = Table(
        ["deal", "owner", "stage", "amount", "risk", "why"],
        [
            [
                r["opportunity_id"],
                r["owner"] or fmt.NONE,
                r["stage"],
                fmt.money(r["amount"], r["currency"], 0),
                str(r["risk_score"]),
                _why(r),
            ]
            for r in rows
        ],
        [False, False, False, True, True, False],
    )
    return Figure(f"The {LISTED} open deals most at risk", table), total


def _leads(ctx: Context) -> tuple[Figure | None, int]:
    if not ctx.has("lead_followup"):
        return None, 0
    rows = ctx.rows(
        f"""
        select * from lead_followup
        order by created_at desc, lead_id
        limit {LISTED}
        """
    )
    waiting = ctx.con.execute("select count(*) from lead_followup").fetchone()
    total = int((waiting or (0,))[0])
    table = Table(
        ["lead", "owner", "source", "created", "waiting"],
        [
            [
                r["lead_id"],
                r["owner"] or fmt.NONE,
                r["source"] or fmt.NONE,
                f"{r['created_at']:%Y-%m-%d %H:%M}",
                fmt.days(round(r["minutes_waiting"] / 1440, 1)),
            ]
            for r in rows
        ],
        [False, False, False, False, True],
    )
    return Figure("Leads waiting for a first touch (newest first)", table), total


def morning(ctx: Context) -> Section | None:
    """What changed since last week, what broke, and the deals and leads to act on."""
    changes = _changes(ctx)
    breaches, n_breaches = _breaches(ctx)
    deals, n_deals = _deals(ctx)
    leads, n_leads = _leads(ctx)
    figures = [f for f in (changes, breaches, deals, leads) if f is not None]
    if not figures:
        return None
    kpis = []
    if breaches is not None:
        kpis.append(
            Kpi("metric_breaches", "Metric breaches", fmt.count(n_breaches), "warn or alert")
        )
    if deals is not None:
        kpis.append(Kpi("deals_at_risk", "Deals at risk", fmt.count(n_deals), "risk score > 0"))
    if leads is not None:
        kpis.append(Kpi("leads_waiting", "Leads waiting", fmt.count(n_leads), "past the SLA"))
    return Section(
        "morning",
        "This morning",
        "metric_checks, open_deal_health, lead_followup, stage_transitions, opportunities, leads",
        intro="The as-of day and its last 7 days against the 7 days before, the metrics that"
        " fell below their recent past, and the deals and leads that need action.",
        kpis=kpis,
        figures=figures,
    )
