"""The `funnel` command: run, generate, serve. Exit codes follow CONTRACT.md."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from funnel.errors import ConfigError, FunnelError

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    help="Turns CRM exports into a sales-funnel warehouse in DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The TOML config file.", show_default=True)
]


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as e:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint="--as-of") from e


def _print_summary(summary: object) -> None:
    from funnel.summary import RunSummary

    assert isinstance(summary, RunSummary)
    table = Table(title=f"run {summary.run_id}: {summary.status} (as of {summary.as_of})")
    for col in ("source", "entity", "read", "loaded", "quarantined", "warned"):
        table.add_column(col, justify="left" if col in ("source", "entity") else "right")
    for s in summary.sources:
        table.add_row(
            s.source,
            s.entity,
            f"{s.rows_read:,}",
            f"{s.rows_loaded:,}",
            f"{s.rows_quarantined:,}",
            f"{s.rows_warned:,}",
        )
    out.print(table)
    metrics = Table(title="headline metrics (funnel_metrics_daily, as-of day)")
    for col in (
        "window",
        "won",
        "lost",
        "win rate",
        "avg deal",
        "median cycle",
        "open",
        "weighted pipeline",
    ):
        metrics.add_column(col, justify="right")
    for m in summary.headline:
        metrics.add_row(
            m["window"],
            f"{m['won']:,}",
            f"{m['lost']:,}",
            "-" if m["win_rate"] is None else f"{m['win_rate']:.1%}",
            "-" if m["avg_deal_size"] is None else f"{m['avg_deal_size']:,.2f}",
            "-" if m["median_cycle_days"] is None else f"{m['median_cycle_days']:g} d",
            f"{m['open_count']:,}",
            "-" if m["weighted_pipeline"] is None else f"{m['weighted_pipeline']:,.0f}",
        )
    out.print(metrics)


@app.command()
def run(
    config: ConfigOption = Path("funnel.toml"),
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The as-of day, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """One nightly run: extract, clean, validate, load, model, publish."""
    day = _as_of(as_of)
    from funnel.config import load_config

    try:
        cfg = load_config(config)  # fail fast (exit 2) before Prefect starts
        for source in cfg.sources:
            if source.path:
                cfg.source_files(source)
        from flows.nightly import nightly
        from funnel import progress

        with console.status("starting Prefect") as status:
            unsubscribe = progress.subscribe(lambda step: status.update(step))
            try:
                summary = nightly(config_path=str(config), as_of=day)
            finally:
                unsubscribe()
    except ConfigError as e:
        console.print(f"[red]config error[/red]: {escape(str(e))}")
        raise typer.Exit(2) from None
    except FunnelError as e:
        console.print(f"[red]run failed[/red] ({type(e).__name__}): {escape(str(e))}")
        console.print("The published warehouse was not changed.")
        raise typer.Exit(e.exit_code) from None
    except Exception as e:
        console.print(f"[red]run failed[/red] ({type(e).__name__}): {escape(str(e))}")
        console.print("The published warehouse was not changed.")
        raise typer.Exit(1) from None
    _print_summary(summary)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the export into.")],
    leads: Annotated[int, typer.Option("--leads", min=1, help="How many leads.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same bytes.")] = 42,
) -> None:
    """Write a synthetic CRM export (leads, opportunities, stage history, activities)."""
    from funnel.generate import generate as write_export

    summary = write_export(out_dir, leads=leads, seed=seed)
    out.print(f"wrote {out_dir}: {summary}")


@app.command()
def serve(config: ConfigOption = Path("funnel.toml")) -> None:
    """Serve the nightly deployment on the config's cron schedule (needs a Prefect server)."""
    from funnel.config import load_config

    try:
        cfg = load_config(config)
    except ConfigError as e:
        console.print(f"[red]config error[/red]: {escape(str(e))}")
        raise typer.Exit(2) from None
    from prefect.schedules import Cron

    from flows.nightly import nightly

    nightly.serve(
        name="nightly",
        schedule=Cron(cfg.schedule.cron, timezone=cfg.schedule.timezone),
        parameters={"config_path": str(config.resolve())},
    )


def main() -> None:
    app()
