"""Data quality: what the run rejected, cleaned and checked, and how to look closer."""

from __future__ import annotations

from funnel.commands import installed, shell_command
from funnel.report import charts
from funnel.report import format as fmt
from funnel.report.model import Context, Figure, Kpi, Section, Table


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
