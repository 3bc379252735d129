"""The nightly funnel run: extract, clean, validate, load, model, publish, alert."""

# No `from __future__ import annotations` here: a served or deployed run loads this flow from
# its entrypoint and validates parameters against the real types (`date`), not strings.

import contextlib
import importlib
import threading
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, cast

import duckdb
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.events import emit_event
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from funnel import (
    alerts,
    connectors,
    incremental,
    metric_alerts,
    progress,
    recovery,
    redact,
    runlock,
    snapshots,
    state,
    warehouse,
)
from funnel.config import FunnelConfig, SourceConfig, load_config
from funnel.errors import DataQualityError, FunnelError
from funnel.extract import extract_files
from funnel.freshness import Freshness, blocking, judge, kept_rows, with_results
from funnel.hygiene import CleanSource, clean_source, record_ids
from funnel.quality import volume
from funnel.quality.rates import Rates, rates_of
from funnel.quality.validate import EntityOutcome, validate_entity
from funnel.report import files
from funnel.runlock import new_run_id
from funnel.schema import ENTITIES
from funnel.summary import RunSummary, SourceCounts, alert_text


@task(cache_policy=NONE)
def extract(
    config: FunnelConfig, source: SourceConfig, rates: Rates | None = None
) -> incremental.Read:
    """Read every row of one source (files, or an API pull), keeping rows the reader rejects.

    A file source's rows get their hash and record key, and the state's record of its last
    load is looked up (funnel.incremental; `rates`: what its checks read of the exchange rates,
    part of its fingerprint). A `changes_only` source's files, after its first load, replace
    the rows of their records only, as an API pull of changes does."""
    progress.step(f"extract {source.name}")
    if source.changes_only:  # files of changes: merged as an API pull is, nothing carried
        rows = extract_files(config, source)
        with state.open_state(config.state_path) as con:
            merge = state.has_rows(con, source.name, source.entity)
        return incremental.Read(replace(rows, incremental=merge))
    if not connectors.is_api(source.format):
        rows = extract_files(config, source, incremental.row_keys(source))
        with state.open_state(config.state_path) as con:
            digest = rates.digest() if rates is not None else None
            return incremental.read(con, config, source, rows, digest)
    watermark = None
    if source.incremental:
        with state.open_state(config.state_path) as con:
            watermark = state.get_watermark(con, source.name, source.entity, source.format)
    return incremental.Read(connectors.extract_api(source, watermark))


@task(cache_policy=NONE)
def clean(
    config: FunnelConfig,
    source: SourceConfig,
    rows: incremental.Read,
    affected: pl.Series | None = None,
) -> tuple[CleanSource, incremental.Carry | None]:
    """Map, clean and deduplicate one source; with `affected` (an incremental run) only its
    rows of those records and its new or changed rows."""
    progress.step(f"clean {source.name}")
    if rows.fingerprint is None:  # an API source
        return clean_source(config, source, rows.extract), None
    scale, formats = rows.probability_scale, rows.number_formats  # decided over every row
    if affected is None or rows.prior is None:
        carry = incremental.full()
        return clean_source(config, source, rows.extract, scale, formats), carry
    narrowed, carry = incremental.narrow(rows.extract, rows.prior.rows, affected)
    return clean_source(config, source, narrowed, scale, formats), carry


@task(cache_policy=NONE, task_run_name="validate-{entity}")
def validate(
    config: FunnelConfig,
    entity: str,
    as_of: date,
    parts: list[CleanSource],
    rates: Rates | None = None,
) -> EntityOutcome:
    """Run one entity's suite over all its sources; split its rows into loaded and quarantined
    (`rates`: opportunities' amounts must convert into the reporting currency)."""
    progress.step(f"validate {entity}")
    past_day = as_of < config.today()  # a backfill: rows born after the day are deferred
    return validate_entity(entity, parts, as_of, config.validation, past_day, rates)


@task(cache_policy=NONE)
def judge_freshness(
    config: FunnelConfig,
    as_of: date,
    outcomes: list[EntityOutcome],
    cleaned: list[CleanSource],
    carries: dict[str, incremental.Carry],
) -> list[Freshness]:
    """Each source's newest record against the as-of day ([validation] max_staleness_days)."""
    with state.open_state(config.state_path) as con:
        return judge(con, config.validation, as_of, outcomes, kept_rows(cleaned, carries))


@task(cache_policy=NONE)
def gate(
    config: FunnelConfig,
    run_id: str,
    as_of: date,
    outcomes: list[EntityOutcome],
    modes: dict[str, str],
    judged: list[Freshness],
    changes_only: frozenset[str] = frozenset(),
) -> None:
    """Log every entity's check results and quarantine; fail the run if a source blocks it
    (its own checks, or its loaded rows fell too far: funnel.quality.volume)."""
    with state.open_state(config.state_path) as con:
        state.record_quality(con, run_id, with_results(outcomes, judged), modes)
        dropped = volume.row_drops(con, config, run_id, as_of, outcomes, changes_only)
        volume.record(con, run_id, dropped)
    stops = [b for o in outcomes for s in o.sources for b in s.blocking] + blocking(judged)
    stops += [d.message for d in dropped if d.blocking]
    if stops:
        raise DataQualityError("blocking data-quality gate failed:\n  " + "\n  ".join(stops))


@task(cache_policy=NONE)
def load(
    config: FunnelConfig,
    run_id: str,
    as_of: date,
    outcomes: list[EntityOutcome],
    cleaned: list[CleanSource],
    carries: dict[str, incremental.Carry],
    fingerprints: dict[str, str],
) -> None:
    """Replace each source's rows (an incremental pull: the pulled records' rows; an incremental
    file source: the rows that are not carried), advance the API sources' watermarks, store the
    file sources' row hashes, append the day's snapshot changes and point the carried rows at
    tonight's file and line (many are staged instead, and applied after the commit), in one
    transaction."""
    progress.step("load")
    by_source = {c.source.name: c for c in cleaned}
    with state.open_state(config.state_path) as con:
        con.begin()
        incremental.unstage_lines(con)
        for name, carry in carries.items():
            if carry.mode == "incremental":
                incremental.drop_replaced(con, by_source[name].source, carry)
        state.load_rows(
            con,
            run_id,
            outcomes,
            [s.name for s in config.sources],
            {c.source.name: record_ids(c) for c in cleaned if c.extract.incremental},
            carried=[n for n, c in carries.items() if c.mode == "incremental"],
        )
        for outcome in outcomes:
            for o in outcome.sources:
                if o.source in carries:
                    c = by_source[o.source]
                    incremental.store(
                        con,
                        run_id,
                        as_of,
                        c.source,
                        fingerprints[o.source],
                        carries[o.source],
                        incremental.newly_loaded(o, c.extract),
                    )
        incremental.forget_others(con, list(carries))
        for c in cleaned:
            if c.extract.watermark is not None:
                s = c.source
                state.set_watermark(con, run_id, s.name, s.entity, s.format, c.extract.watermark)
        # the snapshot comparison reads every record: its own allowance beyond what is held,
        # and at least what the models may use
        state.limit_memory_growth(
            con, state.LOAD_MEMORY, at_least=config.warehouse.memory_limit_bytes
        )
        snapshots.record_load(con, run_id, as_of)
        # last, the carried rows' lines for tonight: few are written here (DuckDB holds the
        # updates in memory until the commit), many staged and written after it
        in_place = incremental.lines_in_place(carries)
        if in_place:
            con.execute("reset memory_limit")
        place = incremental.relineage if in_place else incremental.stage_lines
        for name, carry in carries.items():
            if carry.mode == "incremental":
                place(con, by_source[name].source, carry)
        state.mark_status(con, run_id, "loaded")  # published once its publish has happened
        con.commit()
        incremental.apply_lines(con)  # a transaction per staged part (see stage_lines)


@task(cache_policy=NONE)
def build_models(config: FunnelConfig, run_id: str, as_of: date) -> warehouse.Build:
    """Run the SQL models into a private build file."""
    progress.step("build models")
    return warehouse.build(config, run_id, as_of)


@task(cache_policy=NONE)
def build_report(config: FunnelConfig, run_id: str, build: warehouse.Build) -> Path | None:
    """Render the morning report from the closed build file, beside report.html (not on it)."""
    if not config.report.enabled:
        return None
    progress.step("report")
    from funnel.report.render import stage_report

    try:
        return stage_report(build.path, config.report_path, config.warehouse_path, run_id)
    except Exception as e:
        raise FunnelError(
            f"the report failed ({type(e).__name__}: {e}); nothing published"
            " (set [report] enabled = false to publish without it)"
        ) from e


@task(cache_policy=NONE)
def publish(config: FunnelConfig, build: warehouse.Build, report: Path | None) -> None:
    """Replace the published warehouse with the build in one atomic step, then the report.
    The run is `publishing` in the log meanwhile and `published` once the warehouse is
    replaced (a run stopped in between is settled by the next one: funnel.recovery)."""
    progress.step("publish")
    with state.open_state(config.state_path) as con:
        state.mark_status(con, build.run_id, "publishing")
    warehouse.publish(build.path, config.warehouse_path)
    with state.open_state(config.state_path) as con:
        state.mark_status(con, build.run_id, "published")
    if report is not None:
        try:
            files.publish_report(report, config.report_path)
        except OSError as e:  # the warehouse is published: the run stays published
            get_run_logger().error("could not replace %s: %r", config.report_path, e)
            report.unlink(missing_ok=True)


@task(cache_policy=NONE, retries=0)
def alert(config: FunnelConfig, summary: RunSummary) -> bool:
    """Post a Slack-compatible alert and count it on the run; a dead webhook changes nothing."""
    with state.open_state(config.state_path) as con:
        failed = state.failed_checks(con, summary.run_id)
    sent = alerts.send_alert(config.alerts, alert_text(summary, config, failed))
    if sent:
        with state.open_state(config.state_path) as con:
            state.record_alert(con, summary.run_id)
    return sent


#: One worker thread: each entity is validated (great-expectations and pandas, mostly holding the
#: GIL) while the flow reads and cleans the next one (DuckDB and polars, mostly not holding it).
CHECKER = cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=1))


@flow(name="funnel-nightly", log_prints=True, task_runner=CHECKER)
def nightly(
    config_path: str, as_of: date | None = None, full: bool = False, run_id: str | None = None
) -> RunSummary:
    """One nightly run. Raises ConfigError (exit 2), DataQualityError (3), RunLocked (4: another
    run holds the warehouse) or FunnelError (1).

    File sources whose last load can be carried over run incrementally (funnel.incremental)
    unless `full` is set. `run_id`: the id the caller took the run lock with (funnel run)."""
    redact.install_logging()
    config = load_config(Path(config_path))
    day = as_of or config.today()
    run_id = run_id or new_run_id(day)
    lock = runlock.take(config.state_path, run_id)  # before anything is read; held to the end
    try:
        get_run_logger().info("run %s as of %s", run_id, day)
        with state.open_state(config.state_path) as con:
            _settle(con, config, run_id)
            state.start_run(con, run_id, day)
    except BaseException:
        lock.release()
        raise
    _announce(run_id, day)
    _preload_great_expectations()
    try:
        # Each entity's sources are cleaned as soon as they are read: their text then waits on
        # disk for the rows that end in quarantine, and their cleaned rows wait on disk for
        # validate, so one source's rows are in memory at a time (an incremental run cleans
        # only the rows of the records that changed).
        cleaned: list[CleanSource] = []
        carries: dict[str, incremental.Carry] = {}
        fingerprints: dict[str, str] = {}
        modes: dict[str, str] = {}
        checking: dict[str, PrefectFuture[EntityOutcome]] = {}
        for group in _by_entity(config.sources):
            entity = group[0].entity
            # the exchange rates the entity's checks read (reference entities come first)
            rates = _rates(config, entity, checking)
            parts = _extract_and_clean(
                config, group, day, full, carries, fingerprints, modes, rates
            )
            cleaned += parts
            # checked in the flow's one worker thread while the next entity is read and cleaned
            checking[entity] = validate.submit(config, entity, day, parts, rates)
            del parts
        outcomes = [c.result() for c in checking.values()]
        judged = judge_freshness(config, day, outcomes, cleaned, carries)
        changes_only = frozenset(c.source.name for c in cleaned if c.extract.incremental)
        gate(config, run_id, day, outcomes, modes, judged, changes_only)
        load(config, run_id, day, outcomes, cleaned, carries, fingerprints)
        stale = tuple(f.message for f in judged if f.stale)
        checked = RunSummary.of(run_id, day, "published", outcomes, [], stale)
        del cleaned, outcomes, carries  # loaded: free the frames before the models run
        if checked.warned_share > config.alerts.warn_share or checked.stale:
            # before the models run, so the published pipeline_runs counts this alert
            alert(config, checked)
        build = build_models(config, run_id, day)
        report = build_report(config, run_id, build)
        publish(config, build, report)
        metric_alerts.send(config, run_id, day)  # never raises: the run is published
    except BaseException as error:  # KeyboardInterrupt too: a backfill is safe to stop
        _fail(config, run_id, day, error)
        raise
    finally:
        lock.release()
    return replace(checked, headline=build.headline)


def _settle(con: duckdb.DuckDBPyConnection, config: FunnelConfig, run_id: str) -> None:
    """Runs a kill stopped before they finished: marked abandoned, their build files gone."""
    for stopped in recovery.settle(con, config, run_id):
        get_run_logger().warning("run %s had stopped without finishing: marked abandoned", stopped)


def _extract_and_clean(
    config: FunnelConfig,
    group: list[SourceConfig],
    day: date,
    full: bool,
    carries: dict[str, incremental.Carry],
    fingerprints: dict[str, str],
    modes: dict[str, str],
    rates: Rates | None = None,
) -> list[CleanSource]:
    """One entity's sources read and cleaned, their rows parked on disk; fills in each file
    source's carry and fingerprint and every source's mode. (A function of its own: the last
    source's frames go when it returns instead of living on in the flow's loop variables.)
    Reference data (exchange rates) runs in full: the checks of other entities read all of it."""
    reads = [extract(config, s, rates) for s in group]
    reference = ENTITIES[group[0].entity].reference
    affected = incremental.entity_affected(reads, day, full or reference)
    out = []
    for s, r in zip(group, reads, strict=True):
        c, carry = clean(config, s, r, affected)
        out.append(c)
        if carry is not None and r.fingerprint is not None:
            carries[s.name], fingerprints[s.name] = carry, r.fingerprint
            modes[s.name] = carry.mode
        else:
            modes[s.name] = "incremental" if c.extract.incremental else "full"
    return out


def _announce(run_id: str, day: date) -> None:
    """Emit `funnel.run.started` (for Prefect automations), from the flow before any task.

    Emitting it here also starts Prefect's events worker in the flow's context. Otherwise the
    first task's state event starts it, and the worker's shutdown hook keeps a copy of that
    task's context, and with it the task's result (a source's whole text), until the process
    exits: 0.5 GB more at the peak of a 1M-lead run.
    """
    emit_event(
        event="funnel.run.started",
        resource={"prefect.resource.id": f"funnel.run.{run_id}", "funnel.as-of": str(day)},
    )


def _preload_great_expectations() -> None:
    """Import great-expectations in a background thread while the sources are read.

    The import takes seconds of Python (more than validating an incremental run's rows); the
    extract step spends its time in DuckDB and polars, which release the GIL, so the two
    overlap. validate's own import waits for this one to finish (or fails as it would have).
    """

    def run() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module("great_expectations")

    threading.Thread(target=run, name="preload-great-expectations", daemon=True).start()


def _by_entity(sources: list[SourceConfig]) -> list[list[SourceConfig]]:
    """The sources grouped by entity: reference data first (other entities' checks read it),
    then in the order the config names them."""
    groups: dict[str, list[SourceConfig]] = defaultdict(list)
    for s in sources:
        groups[s.entity].append(s)
    return sorted(groups.values(), key=lambda g: not ENTITIES[g[0].entity].reference)


def _rates(
    config: FunnelConfig, entity: str, checking: dict[str, PrefectFuture[EntityOutcome]]
) -> Rates | None:
    """What the opportunities' conversion checks read of the exchange rates that load (waiting
    for their check); None for other entities, or without [currency] reporting."""
    reporting = config.currency.reporting
    if entity != "opportunities" or reporting is None:
        return None
    checked = checking.get("exchange_rates")
    loaded = [] if checked is None else [p for s in checked.result().sources for p in s.loaded()]
    return rates_of(loaded, reporting, config.currency.default)


def _fail(config: FunnelConfig, run_id: str, day: date, error: BaseException) -> None:
    """Record the failure, drop the build file, and alert. The published file is untouched.

    Never raises: the run's own error is what the caller sees.
    """
    if isinstance(error, KeyboardInterrupt):
        status, code, message = "interrupted", 130, "interrupted (Ctrl-C)"
    else:
        status = "failed_dq" if isinstance(error, DataQualityError) else "failed"
        code = error.exit_code if isinstance(error, FunnelError) else 1
        message = redact.redact(str(error))
    try:
        warehouse.discard(config, run_id)
        files.discard_report(config.report_path, run_id)
        with state.open_state(config.state_path) as con:
            state.finish_run(con, run_id, status, code, message)
            counts = SourceCounts.from_log(con, run_id)
        if status != "interrupted":
            alert(config, RunSummary(run_id, day, status, counts, [], message))
    except Exception as e:
        get_run_logger().error("could not record the failure of run %s: %r", run_id, e)
