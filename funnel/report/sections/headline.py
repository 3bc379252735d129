"""The headline: won, lost, win rate, deal size, cycle, velocity and pipeline."""

from __future__ import annotations

from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Kpi, Section, Table


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
