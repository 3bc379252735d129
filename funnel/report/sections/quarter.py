"""The report's "This quarter" section: attainment and coverage per team, the quarter's pipeline
waterfall, the deals that slipped most and the forecast by category, each against the previous
quarter. It reads the period tables of issue 23 (period_metrics, target_attainment,
pipeline_flow, opportunities) and shows nothing when they are absent."""

from __future__ import annotations

from typing import Any

from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Kpi, Section, Table

#: How many slipped deals to list.
SLIPPED = 10
#: The waterfall's steps in order: (column, label, sign).
STEPS: tuple[tuple[str, str, int], ...] = (
    ("start_amount", "start", 1),
    ("created_amount", "created", 1),
    ("pulled_in_amount", "pulled in", 1),
    ("amount_change", "amount change", 1),
    ("pushed_out_amount", "pushed out", -1),
    ("won_amount", "won", -1),
    ("lost_amount", "lost", -1),
    ("end_amount", "end", 1),
)


def _quarter(ctx: Context, offset: int) -> dict[str, Any] | None:
    rows = ctx.rows(
        f"""
        select * from period_metrics
        where period_kind = 'quarter' and period_offset = ? and {ctx.in_currency}
        """,
        [offset, ctx.currency],
    )
    return rows[0] if rows else None


def _kpis(ctx: Context, now: dict[str, Any], before: dict[str, Any] | None) -> list[Kpi]:
    cur = ctx.currency

    def prior(key: str, show: Any) -> str:
        return f"previous quarter {show(before[key])}" if before else ""

    kpis = [
        Kpi(
            "quarter_won",
            "Won",
            fmt.money(now["won_amount"], cur, 0),
            prior("won_amount", lambda v: fmt.money(v, cur, 0)),
        ),
        Kpi(
            "quarter_win_rate",
            "Win rate",
            fmt.percent(now["win_rate"]),
            prior("win_rate", fmt.percent),
        ),
        Kpi(
            "quarter_created",
            "Pipeline created",
            fmt.money(now["created_amount"], cur, 0),
            prior("created_amount", lambda v: fmt.money(v, cur, 0)),
        ),
    ]
    if ctx.has("target_attainment"):
        company = ctx.rows(
            f"""
            select offset_rows.period_offset, attainment, coverage
            from target_attainment
            inner join (
                select distinct period_start, period_offset from period_metrics
                where period_kind = 'quarter' and period_offset in (0, -1)
            ) as offset_rows using (period_start)
            where period_kind = 'quarter' and level = 'company' and {ctx.in_currency}
            """,
            [ctx.currency],
        )
        by_offset = {r["period_offset"]: r for r in company}
        if 0 in by_offset and by_offset[0]["attainment"] is not None:
            last = by_offset.get(-1)
            detail = f"previous quarter {fmt.percent(last['attainment'])}" if last else ""
            kpis.append(
                Kpi(
                    "quarter_attainment",
                    "Attainment",
                    fmt.percent(by_offset[0]["attainment"]),
                    detail,
                )
            )
    return kpis


def _teams(ctx: Context, quarter: Any) -> Figure | None:
    rows = ctx.rows(
        f"""
        select name, target, won_amount, attainment, open_pipeline, coverage, required_coverage
        from target_attainment
        where period_kind = 'quarter' and period_start = ? and level = 'team'
            and target is not null and {ctx.in_currency}
        order by attainment desc nulls last, name
        """,
        [quarter, ctx.currency],
    )
    if not rows:
        return None
    cur = ctx.currency
    spec = charts.bars(
        rows,
        category="name",
        value="attainment",
        value_title="attainment",
        value_format=charts.PERCENT,
        order=[r["name"] for r in rows],
    )
    table = Table(
        ["team", "target", "won", "attainment", "open pipeline", "coverage", "needed"],
        [
            [
                r["name"],
                fmt.money(r["target"], cur, 0),
                fmt.money(r["won_amount"], cur, 0),
                fmt.percent(r["attainment"]),
                fmt.money(r["open_pipeline"], cur, 0),
                "" if r["coverage"] is None else f"{r['coverage']:.1f}x",
                "" if r["required_coverage"] is None else f"{r['required_coverage']:.1f}x",
            ]
            for r in rows
        ],
        [False] + [True] * 6,
    )
    return Figure(
        "Attainment and coverage per team",
        table,
        spec,
        caption="coverage = open pipeline / what remains of the target; needed = "
        "1 / the team's win rate by amount over the last 365 days",
    )


def _waterfall(ctx: Context, quarter: Any, previous: Any) -> Figure | None:
    rows = ctx.rows(
        f"""
        select * from pipeline_flow
        where period_kind = 'quarter' and period_start in (?, ?) and level = 'all'
            and {ctx.in_currency}
        """,
        [quarter, previous, ctx.currency],
    )
    now = next((r for r in rows if r["period_start"] == quarter), None)
    if now is None:
        return None
    before = next((r for r in rows if r["period_start"] == previous), None)
    cur = ctx.currency
    steps: list[dict[str, Any]] = [
        {
            "step": label,
            "amount": sign * float(now[col] or 0),
            "kind": "level"
            if col in ("start_amount", "end_amount")
            else ("in" if sign > 0 else "out"),
        }
        for col, label, sign in STEPS
    ]
    spec = charts.bars(
        steps,
        category="step",
        value="amount",
        value_title="amount",
        value_format=charts.MONEY,
        order=[s["step"] for s in steps],
        colour="kind",
    )
    table = Table(
        ["step", "this quarter", "previous quarter"],
        [
            [label, fmt.money(now[col], cur, 0), fmt.money(before[col], cur, 0) if before else ""]
            for col, label, _ in STEPS
        ],
        [False, True, True],
    )
    return Figure(
        "How the pipeline of the quarter moved",
        table,
        spec,
        caption="open deals expected to close this quarter, from its start to today "
        "(pipeline_flow)",
    )


def _slipped(ctx: Context) -> Figure | None:
    if not ctx.has("opportunities"):
        return None
    rows = ctx.rows(
        f"""
        select opportunity_id, account, owner, first_expected_close, expected_close_date,
            days_slipped, push_count, amount
        from opportunities
        where is_open and days_slipped > 0
        order by days_slipped desc, amount_reporting desc nulls last, opportunity_id
        limit {SLIPPED}
        """
    )
    if not rows:
        return None
    table = Table(
        ["deal", "account", "owner", "first expected", "expected", "days slipped", "pushes"],
        [
            [
                r["opportunity_id"],
                r["account"] or "",
                r["owner"] or "",
                str(r["first_expected_close"]),
                str(r["expected_close_date"]),
                fmt.count(r["days_slipped"]),
                fmt.count(r["push_count"]),
            ]
            for r in rows
        ],
        [False, False, False, False, False, True, True],
    )
    return Figure("The open deals that slipped most", table)


def _by_category(ctx: Context, quarter: Any) -> Figure | None:
    rows = ctx.rows(
        f"""
        select won_amount, commit_amount, best_case_amount, pipeline_amount
        from target_attainment
        where period_kind = 'quarter' and period_start = ? and level = 'company'
            and {ctx.in_currency}
        """,
        [quarter, ctx.currency],
    )
    if not rows:
        return None
    row = rows[0]
    parts: list[dict[str, Any]] = [
        {"category": "won", "amount": float(row["won_amount"] or 0)},
        {"category": "commit", "amount": float(row["commit_amount"] or 0)},
        {"category": "best case", "amount": float(row["best_case_amount"] or 0)},
        {"category": "pipeline", "amount": float(row["pipeline_amount"] or 0)},
    ]
    spec = charts.bars(
        parts,
        category="category",
        value="amount",
        value_title="amount",
        value_format=charts.MONEY,
        order=[p["category"] for p in parts],
    )
    table = Table(
        ["forecast category", "amount"],
        [[p["category"], fmt.money(p["amount"], ctx.currency, 0)] for p in parts],
        [False, True],
    )
    return Figure("The forecast of the quarter by category", table, spec)


def this_quarter(ctx: Context) -> Section | None:
    """The running fiscal quarter against the previous one."""
    if not ctx.has("period_metrics", "pipeline_flow"):
        return None
    now = _quarter(ctx, 0)
    if now is None:
        return None
    before = _quarter(ctx, -1)
    figures = [
        f
        for f in (
            _teams(ctx, now["period_start"]) if ctx.has("target_attainment") else None,
            _waterfall(ctx, now["period_start"], now["previous_period_start"]),
            _slipped(ctx),
            _by_category(ctx, now["period_start"]) if ctx.has("target_attainment") else None,
        )
        if f is not None
    ]
    return Section(
        "this-quarter",
        f"This quarter ({now['period_label']})",
        "period_metrics, target_attainment, pipeline_flow, opportunities",
        intro="The running fiscal quarter up to today, each figure against the previous quarter.",
        kpis=_kpis(ctx, now, before),
        figures=figures,
    )
