"""The `funnel` command: run, rebuild, backfill, status, serve, deploy, report, generate, docs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from funnel.errors import ConfigError, FunnelError

if TYPE_CHECKING:
    from prefect.schedules import Schedule

    from funnel import runlog
    from funnel.config import FunnelConfig
    from funnel.failure_report import FailedRun
    from funnel.summary import RunSummary

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Without PREFECT_API_URL a run starts Prefect's temporary server. On a fresh PREFECT_HOME it
# first creates its database, which took longer than Prefect's 20 s default on a slow machine:
# the README's first command then failed ("Timed out while attempting to connect").
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(
    help="Turns CRM exports into a sales-funnel warehouse in DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console(stderr=True)
out = Console()

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar="FUNNEL_CONFIG",
        help="The TOML config file (default: $FUNNEL_CONFIG, else funnel.toml).",
        show_default=True,
    ),
]
DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug",
        help="Show Prefect's own log lines and the traceback of a failure (default: one"
        " readable block; the details stay in the Prefect logs).",
    ),
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="When another run, rebuild or backfill holds the warehouse, wait for it to finish"
        " (default: exit 1 at once, naming the holder).",
    ),
]


def _waiting(holder: str) -> None:
    console.print(f"waiting for {escape(holder)} to finish (another run holds the warehouse)")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"funnel {version('funnel')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Turns CRM exports into a sales-funnel warehouse in DuckDB."""


def _as_of(value: str | None, option: str = "--as-of") -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as e:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from e


def _print_summary(summary: object) -> None:
    from funnel.summary import RunSummary

    assert isinstance(summary, RunSummary)
    table = Table(title=f"run {summary.run_id}: {summary.status} (as of {summary.as_of})")
    for col in ("source", "entity", "read", "loaded", "quarantined", "warned", "encoding"):
        table.add_column(
            col, justify="left" if col in ("source", "entity", "encoding") else "right"
        )
    for s in summary.sources:
        table.add_row(
            s.source,
            s.entity,
            f"{s.rows_read:,}",
            f"{s.rows_loaded:,}",
            f"{s.rows_quarantined:,}",
            f"{s.rows_warned:,}",
            s.encoding or "-",
        )
    out.print(table)
    for finding in summary.findings:
        out.print(f"[yellow]finding[/yellow] {escape(finding)}")
    for line in summary.stale:
        out.print(f"[yellow]warning[/yellow]: {escape(line)}")
    # one currency (the reporting one, or the only one): named in the title; several (no
    # [currency] reporting): a row per currency and window, never summed across
    currencies = list(dict.fromkeys(m.get("currency") for m in summary.headline))
    per_currency = len(currencies) > 1
    shown = f" in {currencies[0]}" if len(currencies) == 1 and currencies[0] else ""
    metrics = Table(title=f"headline metrics{shown} (funnel_metrics_daily, as-of day)")
    if per_currency:
        metrics.add_column("currency")
    for col in (
        "trailing window",
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
            *([m.get("currency") or "(none)"] if per_currency else []),
            m["trailing_window"],
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
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Clean and validate every row of every file source, even when only some"
            " changed since the last run (default: only new or changed records).",
        ),
    ] = False,
    wait: WaitOption = False,
    debug: DebugOption = False,
) -> None:
    """One nightly run: extract, clean, validate, load, model, publish."""
    day = _as_of(as_of)
    from funnel import quiet_logs, runlock
    from funnel.check import preflight
    from funnel.config import load_config
    from funnel.failure_report import FailedRun

    failed: FailedRun | None = None
    try:
        cfg = load_config(config)  # fail fast (exit 2) before Prefect starts
        preflight(cfg)  # every file source's files and mapped columns
        run_id = runlock.new_run_id(day or cfg.today())
        failed = FailedRun(config, run_id, day or cfg.today(), cfg.state_path)
        # the warehouse's run lock, before anything is read (and before Prefect starts)
        with (
            runlock.take(cfg.state_path, run_id, "funnel run", wait, _waiting),
            quiet_logs.quiet(debug),
        ):
            from flows.nightly import nightly
            from funnel.quality.runner import preload_great_expectations

            # imported while Prefect creates the flow run and the first sources are read
            preload_great_expectations()
            summary = _with_progress(
                lambda: nightly(config_path=str(config), as_of=day, full=full, run_id=run_id)
            )
    except BaseException as e:
        _exit_for(e, failed, debug, config)
    _print_summary(summary)
    if cfg.report.enabled:
        out.print(f"report: {cfg.report_path}")


@app.command()
def rebuild(
    config: ConfigOption = Path("funnel.toml"),
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="The as-of day, YYYY-MM-DD (default: the day of the last load)."
        ),
    ] = None,
    wait: WaitOption = False,
    debug: DebugOption = False,
) -> None:
    """Rebuild and publish every model from the stored state, with no new extract."""
    day = _as_of(as_of)
    cfg = _load(config)  # exit 2 on a bad config or nothing stored, before Prefect starts
    if not cfg.state_path.is_file():
        console.print(f"[red]nothing to rebuild[/red]: {cfg.state_path} does not exist (no run)")
        raise typer.Exit(2)
    from funnel import quiet_logs, runlock

    try:
        with (
            runlock.take(cfg.state_path, "(starting)", "funnel rebuild", wait, _waiting),
            quiet_logs.quiet(debug),
        ):
            from flows.rebuild import rebuild as rebuild_flow

            summary = _with_progress(lambda: rebuild_flow(config_path=str(config), as_of=day))
    except BaseException as e:
        _exit_for(e, None, debug, config)
    _print_summary(summary)


def _with_progress(call: Callable[[], RunSummary]) -> RunSummary:
    """Run a flow with its steps shown in a status line."""
    from funnel import progress

    with console.status("starting Prefect") as status, _without_heartbeats():
        unsubscribe = progress.subscribe(lambda step: status.update(step))
        try:
            return call()
        finally:
            unsubscribe()


@contextmanager
def _without_heartbeats() -> Iterator[None]:
    """The flow run started here sends no heartbeats: this process watches its own run to the
    end (and exits non-zero when it fails), and stopping the heartbeat thread costs the call
    about a second. Served deployments (`funnel serve`) and backfills keep Prefect's default:
    without that second between a backfill's days, a Ctrl-C more often lands while Prefect
    serializes the next run's state, where pydantic reports it as a serialization error
    instead of an interrupt (exit 1, not 130; see test_backfill)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _exit_for(
    e: BaseException,
    failed: FailedRun | None = None,
    debug: bool = False,
    config: Path | None = None,
) -> NoReturn:
    """Print a failed run's error (redacted) and exit with its code (CONTRACT.md; 4: another
    run holds the warehouse). A config or data-quality failure is one readable block
    (funnel.failure_report); `debug` adds the traceback."""
    from funnel.failure_report import failure_lines
    from funnel.redact import redact
    from funnel.runlock import RunLocked

    if debug and isinstance(e, Exception):
        import traceback

        console.print(escape("".join(traceback.format_exception(e))), soft_wrap=True)
    lines = failure_lines(e, failed, config)
    if lines is not None:
        _print_block(lines, redact)
        raise typer.Exit(2 if isinstance(e, ConfigError) else 3) from None
    if isinstance(e, RunLocked):
        console.print(f"[yellow]not started[/yellow]: {escape(str(e))}")
        raise typer.Exit(e.exit_code) from None
    if isinstance(e, KeyboardInterrupt):
        console.print("interrupted; the published warehouse was not changed.")
        raise typer.Exit(130) from None
    if not isinstance(e, Exception):
        raise e
    console.print(
        f"[red]run failed[/red] ({type(e).__name__}): {escape(redact(str(e)))}", soft_wrap=True
    )
    console.print("The published warehouse was not changed.")
    if not debug:
        console.print("details: run again with --debug, or read the flow run's logs in Prefect")
    raise typer.Exit(e.exit_code if isinstance(e, FunnelError) else 1) from None


def _print_block(lines: list[str], redact: Callable[[str], str]) -> None:
    """A failure block on stderr, each line whole (never wrapped at the terminal's width)."""
    for line in lines:
        console.print(escape(redact(line)), soft_wrap=True, highlight=False)


@app.command()
def check(
    config: ConfigOption = Path("funnel.toml"),
    rows: Annotated[
        int, typer.Option("--rows", min=1, help="Rows read of each file.", show_default=True)
    ] = 10_000,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="The as-of day the dates are checked against (default: today)."
        ),
    ] = None,
) -> None:
    """Check the config and the first rows of every source without a run (no Prefect, no
    warehouse); exit 0, 2 or 3 as a run would."""
    day = _as_of(as_of)
    cfg = _load(config, suggest_check=False)
    from funnel import check as checking

    reports = checking.check(cfg, rows, day)
    for r in reports:
        for line in r.lines:
            out.print(escape(line), soft_wrap=True, highlight=False)
    out.print(escape(checking.verdict(reports)), soft_wrap=True, highlight=False)
    raise typer.Exit(checking.exit_code_of(reports))


@app.command()
def init(
    export: Annotated[
        Path, typer.Option("--from", help="An export file (CSV) whose header starts the config.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="The config file to write.", show_default=True)
    ] = Path("funnel.toml"),
) -> None:
    """Write a starting funnel.toml from an export's header and first rows (every guess is
    commented); never overwrites a file."""
    if out_file.exists():
        console.print(
            f"config error: {escape(str(out_file))} exists; not overwritten (choose another --out)",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    if not export.is_file():
        console.print(f"config error: --from {escape(str(export))}: no such file", soft_wrap=True)
        raise typer.Exit(2)
    from funnel.errors import ConfigError
    from funnel.failure_report import check_command
    from funnel.init_config import init_config

    try:
        text = init_config(export, out_file)
    except ConfigError as e:
        console.print(f"config error: {escape(str(e))}", soft_wrap=True)
        raise typer.Exit(2) from None
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(text, encoding="utf-8")
    out.print(f"wrote {escape(str(out_file))}; check its guesses, then:", soft_wrap=True)
    out.print(f"  {escape(check_command(out_file))}", soft_wrap=True, highlight=False)


@app.command()
def report(
    config: ConfigOption = Path("funnel.toml"),
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day, YYYY-MM-DD (default: the warehouse's as-of day)."),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", help="The HTML file to write (default: report.html beside the warehouse)."
        ),
    ] = None,
) -> None:
    """Write the morning report (one self-contained HTML page) from the published warehouse."""
    day = _as_of(as_of)
    cfg = _load(config)
    target = out_file or cfg.report_path
    from funnel.report.render import write_report

    try:
        write_report(cfg.warehouse_path, target, day)
    except ConfigError as e:
        console.print(f"[red]report error[/red]: {escape(str(e))}")
        raise typer.Exit(2) from None
    except Exception as e:
        console.print(f"[red]report failed[/red] ({type(e).__name__}): {escape(str(e))}")
        raise typer.Exit(1) from None
    out.print(f"wrote {target}")


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the export into.")],
    leads: Annotated[int, typer.Option("--leads", min=1, help="How many leads.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same bytes.")] = 42,
) -> None:
    """Write a synthetic CRM export (leads, opportunities, stage history, activities)."""
    from funnel.sample import generate as write_export

    summary = write_export(out_dir, leads=leads, seed=seed)
    out.print(f"wrote {out_dir}: {summary}")


@app.command()
def serve(
    config: ConfigOption = Path("funnel.toml"),
    interval: Annotated[
        int | None,
        typer.Option(
            "--interval",
            min=1,
            help="Run every N seconds instead of the config's cron (for trying it out and tests).",
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="The deployment's name.")] = "nightly",
) -> None:
    """Serve the nightly deployment on the config's \\[schedule] cron (needs a Prefect server)."""
    cfg = _load(config)
    from flows import deploy

    _need_server("serving")
    schedule = _schedule(config, cfg, interval)
    console.print(
        f"serving funnel-nightly/{name}: "
        + (f"every {interval} s" if interval else f"cron {cfg.schedule.cron!r}")
        + f" ({cfg.schedule.timezone}), config {config.resolve()}"
    )
    deploy.serve(config, schedule, name)


@app.command()
def deploy(
    config: ConfigOption = Path("funnel.toml"),
    pool: Annotated[
        str,
        typer.Option(
            "--pool",
            help="The work pool whose worker runs it"
            " (prefect work-pool create funnel-process --type process).",
        ),
    ] = "funnel-process",
    name: Annotated[str, typer.Option("--name", help="The deployment's name.")] = "nightly",
) -> None:
    """Deploy the nightly flow to a work pool on the config's \\[schedule] (needs a server)."""
    cfg = _load(config)
    from flows import deploy as deployment

    _need_server("deploying")
    schedule = _schedule(config, cfg, None)
    deployment.deploy(config, schedule, name, pool)
    out.print(
        f"deployed funnel-nightly/{name} to work pool {pool!r}: cron {cfg.schedule.cron!r}"
        f" ({cfg.schedule.timezone}), config {config.resolve()}\n"
        f"start its worker where the exports are: prefect worker start --pool {pool}"
    )


def _need_server(doing: str) -> None:
    """Exit 2 unless PREFECT_API_URL names a server: a temporary one never schedules anything."""
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        console.print(
            f"[red]no Prefect server[/red]: {doing} needs one. Run `prefect server start` and set"
            " PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)."
        )
        raise typer.Exit(2)


def _schedule(config: Path, cfg: FunnelConfig, interval: int | None) -> Schedule:
    """[schedule] as a Prefect schedule, or exit 2 naming the key."""
    from flows.deploy import nightly_schedule

    try:
        return nightly_schedule(config, cfg.schedule, interval)
    except ConfigError as e:
        console.print(f"[red]config error[/red]: {escape(str(e))}")
        raise typer.Exit(2) from None


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--start", help="The first as-of day, YYYY-MM-DD.")],
    end: Annotated[
        str | None, typer.Option("--end", help="The last as-of day, YYYY-MM-DD (default: today).")
    ] = None,
    config: ConfigOption = Path("funnel.toml"),
    rerun: Annotated[
        bool, typer.Option("--rerun", help="Run every day again, even those already done.")
    ] = False,
    wait: WaitOption = False,
    debug: DebugOption = False,
) -> None:
    """Run the nightly job for each day from --start to --end in order; resumes where it stopped."""
    first = _as_of(start, "--start")
    cfg = _load(config)
    from funnel.check import preflight

    try:
        preflight(cfg)  # every file source's files and mapped columns, before Prefect starts
    except ConfigError as e:
        _exit_for(e, None, debug, config)
    last = _as_of(end, "--end") if end else cfg.today()
    assert first is not None and last is not None
    if last < first:
        raise typer.BadParameter(f"--end {last} is before --start {first}", param_hint="--end")
    from funnel import runlock

    try:  # the run lock for the whole backfill; each day's run takes it again in this process
        lock = runlock.take(
            cfg.state_path, f"(backfill {first}..{last})", "funnel backfill", wait, _waiting
        )
    except runlock.RunLocked as e:
        _exit_for(e)
    from funnel import quiet_logs

    with lock, quiet_logs.quiet(debug):
        _backfill(cfg, config, first, last, rerun, debug)


def _backfill(
    cfg: FunnelConfig, config: Path, first: date, last: date, rerun: bool, debug: bool
) -> None:
    from funnel import runlock, runlog, state
    from funnel.failure_report import FailedRun, failure_lines
    from funnel.redact import redact

    wanted = runlog.days(first, last)
    with state.open_state(cfg.state_path) as con:
        published = [] if rerun else state.published_days(con)
    done = runlog.resume_index(wanted, published, runlog.published_run_ids(cfg.warehouse_path))
    for day, (_, run_id) in zip(wanted[:done], published[len(published) - done :], strict=True):
        out.print(f"{day} already published by run {run_id}: skipped")
    from flows.nightly import nightly

    day = first
    try:
        for day in wanted[done:]:
            run_id = runlock.new_run_id(day)
            try:
                summary = nightly(config_path=str(config), as_of=day, run_id=run_id)
            except Exception as e:
                code = e.exit_code if isinstance(e, FunnelError) else 1
                failed = FailedRun(config, run_id, day, cfg.state_path)
                lines = failure_lines(e, failed, config)
                if lines is not None:
                    console.print(f"[red]{day} failed[/red]:")
                    _print_block(lines, redact)
                else:
                    console.print(
                        f"[red]{day} failed[/red] ({type(e).__name__}): {escape(redact(str(e)))}",
                        soft_wrap=True,
                    )
                console.print("Backfill stopped; fix the cause and run the same command to resume.")
                raise typer.Exit(code) from None
            out.print(
                f"{day} published by run {summary.run_id}: read {summary.rows_read:,},"
                f" quarantined {summary.rows_quarantined:,}"
            )
    except KeyboardInterrupt:
        console.print(f"interrupted at {day}; run the same command again to resume there.")
        raise typer.Exit(130) from None
    out.print(f"backfill {first}..{last} complete: {len(wanted) - done} run, {done} skipped")


@app.command()
def status(
    config: ConfigOption = Path("funnel.toml"),
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs.")] = 10,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array of runs, newest first.")
    ] = False,
) -> None:
    """The last runs from the run log: status, rows, duration, quarantined, alerts sent."""
    cfg = _load(config)
    from funnel import runlog
    from funnel.query import plain_table

    source = cfg.state_path.name
    try:
        try:
            runs = runlog.last_runs(cfg, limit)
        except runlog.LogBusy as e:
            console.print(f"{escape(str(e))}: showing the published pipeline_runs instead")
            runs, source = runlog.published_runs(cfg.warehouse_path, limit), "pipeline_runs"
    except runlog.NoRunsYet as e:
        runs = []
        if not as_json:
            out.print(
                f"no runs yet ({escape(str(e))}); start one with `funnel run`", soft_wrap=True
            )
            return
    except runlog.LogUnavailable as e:
        console.print(escape(str(e)))
        raise typer.Exit(1) from None
    if as_json:
        import json

        out.print_json(json.dumps([r.as_dict() for r in runs], default=str))
        return
    rows = [_status_cells(r) for r in runs]
    if not out.is_terminal:  # a pipe or a cron log: every value whole, one line per run
        out.print(escape(plain_table(STATUS_COLUMNS, rows)), soft_wrap=True)
        return
    table = Table(title=f"last {len(runs)} runs ({source})")
    for col in STATUS_COLUMNS[:6]:
        table.add_column(col, no_wrap=True)
    for col in STATUS_COLUMNS[6:10]:
        table.add_column(col, justify="right")
    table.add_column("message", overflow="fold", max_width=60)
    for r, cells in zip(runs, rows, strict=True):
        cells[2] = _STATUS_STYLE.get(r.status, "{}").format(r.status)
        table.add_row(*cells)
    out.print(table)


STATUS_COLUMNS = (
    "run id",
    "as of",
    "status",
    "exit",
    "started",
    "duration",
    "read",
    "loaded",
    "quarantined",
    "alerts",
    "message",
)


def _status_cells(r: runlog.RunRow) -> list[str]:
    """One run's values as `funnel status` prints them, in STATUS_COLUMNS order."""
    return [
        r.run_id,
        str(r.as_of),
        r.status,
        "" if r.exit_code is None else str(r.exit_code),
        f"{r.started_at:%Y-%m-%d %H:%M:%S}",
        "" if r.duration is None else f"{r.duration.total_seconds():.0f} s",
        *("-" if v is None else f"{v:,}" for v in (r.rows_read, r.rows_loaded)),
        "-" if r.rows_quarantined is None else f"{r.rows_quarantined:,}",
        "-" if r.alerts_sent is None else str(r.alerts_sent),
        " ".join((r.message or "").split()),
    ]


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SQL statement, e.g. 'from leads limit 5'.")],
    config: ConfigOption = Path("funnel.toml"),
    state: Annotated[
        bool,
        typer.Option(
            "--state",
            help="Query the private state file (the run log: log_pipeline_runs,"
            " log_dq_quarantine, ...) instead of the published warehouse.",
        ),
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, csv or json.", show_default=True)
    ] = "table",
) -> None:
    """Run a read-only query on the published warehouse and print the rows."""
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter(f"{fmt!r}: use table, csv or json", param_hint="--format")
    cfg = _load(config)
    from funnel.query import as_csv, as_json, plain_table, run_query, text

    try:
        result = run_query(cfg.state_path if state else cfg.warehouse_path, query)
    except FunnelError as e:
        console.print(escape(str(e)))
        raise typer.Exit(e.exit_code) from None
    if fmt == "csv":
        out.file.write(as_csv(result))
    elif fmt == "json":
        out.file.write(as_json(result) + "\n")
    elif out.is_terminal:
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*(escape(text(v)) for v in row))
        out.print(table)
        out.print(f"{len(result.rows):,} rows")
    else:
        rows = [[text(v) for v in row] for row in result.rows]
        out.file.write(plain_table(result.columns, rows) + "\n")


@app.command()
def docs(
    out_file: Annotated[
        Path, typer.Option("--out", help="The Markdown page to write.", show_default=True)
    ] = Path("docs/data_dictionary.md"),
    warehouse: Annotated[
        Path,
        typer.Option(
            "--warehouse",
            help="A built warehouse whose column types the page shows (`make run` writes it).",
            show_default=True,
        ),
    ] = Path("data/warehouse/funnel.duckdb"),
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the page is out of date.")
    ] = False,
) -> None:
    """Render the data dictionary page from sql/marts/*.yml and a built warehouse's types."""
    from funnel import dictionary, dictionary_page

    if not warehouse.is_file():
        console.print(
            f"[red]no warehouse at {escape(str(warehouse))}[/red]: run `make run` first, or"
            " pass --warehouse (the page shows each column's type as built)"
        )
        raise typer.Exit(2)
    try:
        page = dictionary_page.render(
            dictionary.load_all(), dictionary_page.column_types(warehouse)
        )
    except dictionary.DictionaryError as e:
        console.print(f"[red]data dictionary error[/red]: {escape(str(e))}")
        raise typer.Exit(2) from None
    if check:
        current = out_file.read_text(encoding="utf-8") if out_file.is_file() else None
        if current != page:
            console.print(f"{out_file} is out of date: run `funnel docs --out {out_file}`")
            raise typer.Exit(1)
        out.print(f"{out_file} is up to date")
        return
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(page, encoding="utf-8")
    out.print(f"wrote {out_file}")


_STATUS_STYLE = {
    "published": "[green]{}[/green]",
    "failed": "[red]{}[/red]",
    "failed_dq": "[red]{}[/red]",
    "interrupted": "[yellow]{}[/yellow]",
    "abandoned": "[yellow]{}[/yellow]",
    "running": "[cyan]{}[/cyan]",
    "loaded": "[cyan]{}[/cyan]",
    "publishing": "[cyan]{}[/cyan]",
}


def _load(config: Path, suggest_check: bool = True) -> FunnelConfig:
    """The config, or exit 2 naming the file and key (and, unless `funnel check` is the
    command, the check to paste)."""
    from funnel.config import load_config

    try:
        return load_config(config)
    except ConfigError as e:
        from funnel.failure_report import config_error_lines
        from funnel.redact import redact

        _print_block(config_error_lines(e, config if suggest_check else None), redact)
        raise typer.Exit(2) from None


def main() -> None:
    """The console script: the command, then an exit without the interpreter's teardown."""
    try:
        app()
    except SystemExit as e:
        _exit_now(e.code)
    _exit_now(0)


def _exit_now(code: object) -> NoReturn:
    """Exit as `sys.exit(code)` would, less the interpreter's teardown.

    After a run the process holds a million Python objects (great-expectations, Prefect and
    pandas modules among them) and the teardown frees them one by one: about a second of a
    1M-lead run, for nothing. What an exit must still do is done first: non-daemon threads are
    joined, the atexit handlers run (Prefect drains its log and event workers there, logging
    flushes its handlers) and stdout and stderr are flushed.
    """
    import atexit
    import sys
    import threading

    if code is None or isinstance(code, int):
        status = code or 0
    else:  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        status = 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
