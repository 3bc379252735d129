"""Warnings shown above every section of the report, for what makes its figures doubtful."""

from __future__ import annotations

from funnel.report.model import Context


def stale_sources(ctx: Context) -> list[str]:
    """The sources whose export was stale on the report's day (the check `freshness` of the
    day's last run that judged it), with their newest record."""
    if not ctx.has("dq_results", "pipeline_runs"):
        return []
    rows = ctx.rows(
        """
        select source, details
        from dq_results
        where "check" = 'freshness' and not passed and run_id = (
            select run_id from pipeline_runs
            where as_of = ?
              and run_id in (select run_id from dq_results where "check" = 'freshness')
            order by started_at desc
            limit 1
        )
        order by source
        """,
        [ctx.as_of],
    )
    return [
        f"Stale export: {r['source']} has no recent records ({r['details']}). Its figures of the"
        " last days may be missing."
        for r in rows
    ]


def banners(ctx: Context) -> list[str]:
    """Every banner of the page, top to bottom."""
    return stale_sources(ctx)
