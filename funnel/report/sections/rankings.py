"""Owners and sources: the best and worst over the trailing year."""

from __future__ import annotations

from typing import Any

from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Section, Table

#: owner and source rankings look at the trailing year.
RANK_WINDOW = "365d"
#: how many best and worst owners or sources to show.
TOP = 5


def best_and_worst(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
    picked = best_and_worst(rows)
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
    picked = best_and_worst(rows)
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
