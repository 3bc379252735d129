"""The data dictionary page (docs/data_dictionary.md): the published tables grouped by the
question they answer, each column with its type and description."""

from __future__ import annotations

from pathlib import Path

import duckdb

from funnel.dictionary import TableDoc

#: The questions a reader comes with, in page order, and the tables that answer each. A table
#: missing here lands under OTHER, and a unit test asks for it to be placed.
QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "What needs attention today?",
        ("metric_checks", "metric_windows", "open_deal_health", "lead_followup"),
    ),
    (
        "How is the funnel doing?",
        ("funnel_metrics_daily", "funnel_daily", "stage_conversion", "source_metrics_daily"),
    ),
    (
        "Where do deals stall or drop out?",
        ("stage_transitions", "stage_durations", "stage_bottlenecks_weekly"),
    ),
    (
        "How is this quarter going?",
        (
            "period_metrics",
            "target_attainment",
            "pipeline_flow",
            "opportunity_changes",
            "period_lost_reasons",
            "calendar",
        ),
    ),
    ("How does each rep perform?", ("owner_metrics_daily", "owner_hygiene_daily")),
    ("What will we win?", ("pipeline_forecast", "forecast_lookback")),
    (
        "Are our leads any good?",
        ("lead_qualification", "qualification_outcomes", "nurture_returns"),
    ),
    (
        "How fast do we answer a lead, and how many touches does a win take?",
        ("lead_response", "response_metrics_daily", "touches_to_outcome"),
    ),
    ("Why do we lose?", ("lost_reasons",)),
    ("What happened to each record?", ("leads", "opportunities", "activity_outcomes")),
    ("What happens after the sale?", ("post_sale_handoffs",)),
    ("Which money, at which rate?", ("exchange_rates",)),
    ("Can I trust last night's data?", ("pipeline_runs", "dq_results", "dq_quarantine")),
)
OTHER = "Other tables"


def column_types(warehouse: Path) -> dict[str, dict[str, str]]:
    """Each published table's column types, read from a built warehouse file."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name, data_type from duckdb_columns()"
            " where database_name = current_database() order by table_name, column_index"
        ).fetchall()
    types: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        types.setdefault(table, {})[column] = data_type
    return types


def groups(names: list[str]) -> list[tuple[str, list[str]]]:
    """The page's sections: each question with its tables (present ones only), then OTHER."""
    placed = {t for _, tables in QUESTIONS for t in tables}
    sections = [(q, [t for t in tables if t in names]) for q, tables in QUESTIONS]
    sections.append((OTHER, sorted(n for n in names if n not in placed)))
    return [(q, tables) for q, tables in sections if tables]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _anchor(text: str) -> str:
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def render(docs: dict[str, TableDoc], types: dict[str, dict[str, str]] | None = None) -> str:
    """The Markdown page: the questions with their tables as contents, then one section per
    table; `types` (from a built warehouse) adds each column's type."""
    types = types or {}
    sections = groups(sorted(docs))
    lines = [
        "# Data dictionary",
        "",
        "Every table published in the warehouse file, grouped by the question it answers, with",
        "each column's type and meaning. Generated from `sql/marts/<table>.yml` and the sample",
        "warehouse's column types by `funnel docs`; do not edit by hand. The same text is in the",
        "warehouse itself as DuckDB comments:",
        "`select table_name, column_name, data_type, comment from duckdb_columns()`.",
        "",
        "Days are calendar days in the warehouse time zone; `trailing_window` is `30d`, `90d`,",
        "`365d` (the trailing days ending on `day`) or `all` (everything up to and including",
        "`day`). Shares and rates are in 0..1. A money column is in the currency its row's",
        "`currency` column names: the reporting currency with `[currency] reporting`, else the",
        "deal's own (money is never summed across currencies).",
        "",
    ]
    for question, tables in sections:
        lines.append(
            f"- [{question}](#{_anchor(question)}): " + ", ".join(f"[{t}](#{t})" for t in tables)
        )
    for question, tables in sections:
        lines += ["", f"## {question}"]
        for name in tables:
            doc = docs[name]
            lines += ["", f"### {name}", "", doc.description, ""]
            if doc.grain:
                lines += [f"Grain: {doc.grain}", ""]
            typed = types.get(name, {})
            lines += ["| column | type | description |", "| --- | --- | --- |"]
            lines += [
                f"| `{c}` | {typed.get(c, '')} | {_cell(text)} |" for c, text in doc.columns.items()
            ]
    return "\n".join(lines) + "\n"
