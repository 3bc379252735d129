"""The nightly funnel run: extract, clean, validate, load, model, publish, alert."""

# No `from __future__ import annotations` here: a served or deployed run loads this flow from
# its entrypoint and validates parameters against the real types (`date`), not strings.

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, cast

import duckdb
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.events import emit_event
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from funnel import (
    alerts,
    metric_alerts,
    progress,
    recovery,
    redact,
    run_record,
    runlock,
    state,
    warehouse,
)
from funnel.config import FunnelConfig, SourceConfig, load_config
from funnel.failure import record_failure
from funnel.freshness import Freshness
from funnel.gate import gate as gate_quality
from funnel.gate import judge_freshness as judge_sources
from funnel.hygiene import CleanSource
from funnel.incremental import SourceRead, entity_affected
from funnel.load import load_run
from funnel.publish import publish_run, stage_report
from funnel.quality.rates import Rates, rates_of
from funnel.quality.runner import preload_great_expectations
from funnel.quality.validate import EntityOutcome, validate_entity
from funnel.read import SourceLoad, clean_read, read_source, sources_by_entity
from funnel.runlock import new_run_id
from funnel.summary import RunSummary
from transforms.schema import ENTITIES


@task(cache_policy=NONE, task_run_name="extract[{source.name}]")
def extract(config: FunnelConfig, source: SourceConfig, rates: Rates | None = None) -> SourceRead:
    """Read one source: its files, its files of changes, or an API pull."""
    progress.step(f"extract {source.name}")
    return read_source(config, source, rates)


@task(cache_policy=NONE, task_run_name="clean[{source.name}]")
def clean(
    config: FunnelConfig, source: SourceConfig, read: SourceRead, affected: pl.Series | None = None
) -> SourceLoad:
    """Map, clean and deduplicate one source (only the `affected` records' rows, if given)."""
    progress.step(f"clean {source.name}")
    return clean_read(config, source, read, affected)


@task(cache_policy=NONE, task_run_name="validate[{entity}]")
def validate(
    config: FunnelConfig,
    entity: str,
    as_of: date,
    parts: list[CleanSource],
    rates: Rates | None = None,
) -> EntityOutcome:
    """Check one entity's sources and split their rows into loaded and quarantined."""
    progress.step(f"validate {entity}")
    past_day = as_of < config.today()  # a backfill: rows born after the day are deferred
    return validate_entity(entity, parts, as_of, config.validation, past_day, rates)


@task(cache_policy=NONE, task_run_name="judge-freshness")
def judge_freshness(
    config: FunnelConfig, as_of: date, outcomes: list[EntityOutcome], loads: list[SourceLoad]
) -> list[Freshness]:
    """Judge each source's newest record against the as-of day."""
    return judge_sources(config, as_of, outcomes, loads)


@task(cache_policy=NONE, task_run_name="gate")
def gate(
    config: FunnelConfig,
    run_id: str,
    as_of: date,
    outcomes: list[EntityOutcome],
    loads: list[SourceLoad],
    judged: list[Freshness],
) -> None:
    """Log every check's result; fail the run if a source blocks it."""
    gate_quality(config, run_id, as_of, outcomes, loads, judged)


@task(cache_policy=NONE, task_run_name="load")
def load(
    config: FunnelConfig,
    run_id: str,
    as_of: date,
    outcomes: list[EntityOutcome],
    loads: list[SourceLoad],
) -> None:
    """Load the checked rows into the state file in one transaction."""
    progress.step("load")
    load_run(config, run_id, as_of, outcomes, loads)


@task(cache_policy=NONE, task_run_name="build-models")
def build_models(config: FunnelConfig, run_id: str, as_of: date) -> warehouse.Build:
    """Run the SQL models into a private build file."""
    progress.step("build models")
    return warehouse.build(config, run_id, as_of)


@task(cache_policy=NONE, task_run_name="build-report")
def build_report(config: FunnelConfig, run_id: str, build: warehouse.Build) -> Path | None:
    """Render the morning report from the closed build file."""
    if config.report.enabled:
        progress.step("report")
    return stage_report(config, run_id, build)


@task(cache_policy=NONE, task_run_name="publish")
def publish(config: FunnelConfig, build: warehouse.Build, report: Path | None) -> None:
    """Replace the published warehouse with the build, then the report."""
    progress.step("publish")
    problem = publish_run(config, build, report)
    if problem is not None:  # the warehouse is published: the run stays published
        get_run_logger().error(problem)


@task(cache_policy=NONE, retries=0, task_run_name="alert")
def alert(config: FunnelConfig, summary: RunSummary) -> bool:
    """Post a Slack-compatible alert; a dead webhook changes nothing."""
    return alerts.alert_run(config, summary)


@task(cache_policy=NONE, retries=0, task_run_name="metric-alerts")
def alert_metrics(config: FunnelConfig, run_id: str, day: date) -> None:
    """Post the night's new metric breaches and recoveries; never fails the published run."""
    metric_alerts.send(config, run_id, day)


@task(cache_policy=NONE, task_run_name="record-run")
def record_run(config: FunnelConfig, summary: RunSummary) -> bool:
    """Leave the run's summary and failed checks in Prefect as artifacts; never fails the run."""
    try:
        failed = run_record.failed_checks(config, summary.run_id)
        create_markdown_artifact(
            run_record.summary_markdown(summary, failed),
            key=run_record.SUMMARY_KEY,
            description=f"funnel run {summary.run_id} as of {summary.as_of}: {summary.status}",
        )
        create_table_artifact(
            run_record.failed_checks_table(failed),
            key=run_record.FAILED_CHECKS_KEY,
            description=f"failed checks of funnel run {summary.run_id}",
        )
    except Exception as e:  # the run's outcome stands without its record in the UI
        get_run_logger().warning("run %s: could not create its artifacts: %r", summary.run_id, e)
        return False
    return True


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
            settle(con, config, run_id)
            state.start_run(con, run_id, day)
    except BaseException:
        lock.release()
        raise
    _announce(run_id, day)
    # (`funnel run` started it before the flow run was created; a served run starts it here)
    preload_great_expectations()
    try:
        # Each entity's sources are cleaned as soon as they are read, and checked in the flow's
        # one worker thread while the next entity is read and cleaned.
        loads: list[SourceLoad] = []
        checking: dict[str, PrefectFuture[EntityOutcome]] = {}
        for group in sources_by_entity(config.sources):
            entity = group[0].entity
            rates = _rates(config, entity, checking)  # reference entities come first
            parts = _extract_and_clean(config, group, day, full, rates)
            loads += parts
            cleaned = [p.cleaned for p in parts]
            checking[entity] = validate.submit(config, entity, day, cleaned, rates)
            del parts, cleaned
        outcomes = [c.result() for c in checking.values()]
        judged = judge_freshness(config, day, outcomes, loads)
        gate(config, run_id, day, outcomes, loads, judged)
        load(config, run_id, day, outcomes, loads)
        stale = tuple(f.message for f in judged if f.stale)
        checked = RunSummary.of(run_id, day, "published", outcomes, [], stale)
        del loads, outcomes  # loaded: free the frames before the models run
        if checked.warned_share > config.alerts.warn_share or checked.stale:
            # before the models run, so the published pipeline_runs counts this alert
            alert(config, checked)
        build = build_models(config, run_id, day)
        report = build_report(config, run_id, build)
        publish(config, build, report)
        published = replace(checked, headline=build.headline)
        alert_metrics(config, run_id, day)
    except BaseException as error:  # KeyboardInterrupt too: a backfill is safe to stop
        fail(config, run_id, day, error)
        raise
    else:  # published whatever happens to its record
        record_run(config, published)
    finally:
        lock.release()
    return published


def _extract_and_clean(
    config: FunnelConfig, group: list[SourceConfig], day: date, full: bool, rates: Rates | None
) -> list[SourceLoad]:
    """One entity's sources read and cleaned, their rows parked on disk. (A function of its
    own: the last source's frames go when it returns instead of living on in the flow's loop
    variables.) Reference data (exchange rates) runs in full: other entities' checks read it."""
    reads = [extract(config, s, rates) for s in group]
    reference = ENTITIES[group[0].entity].reference
    affected = entity_affected(reads, day, full or reference)
    return [clean(config, s, r, affected) for s, r in zip(group, reads, strict=True)]


def settle(con: duckdb.DuckDBPyConnection, config: FunnelConfig, run_id: str) -> None:
    """Mark runs a kill stopped before they finished abandoned, their build files gone."""
    for stopped in recovery.settle(con, config, run_id):
        get_run_logger().warning("run %s had stopped without finishing: marked abandoned", stopped)


def fail(config: FunnelConfig, run_id: str, day: date, error: BaseException) -> None:
    """Record the run's failure and alert; never raises (the run's own error is what the
    caller sees). The published file is untouched."""
    try:
        summary = record_failure(config, run_id, day, error)
        if summary is not None:
            alert(config, summary)
            record_run(config, summary)
    except Exception as e:
        get_run_logger().error("could not record the failure of run %s: %r", run_id, e)


def _announce(run_id: str, day: date) -> None:
    """Emit `funnel.run.started` (for Prefect automations), from the flow before any task.

    Emitting it here also starts Prefect's events worker in the flow's context. Otherwise the
    first task's state event starts it, and the worker's shutdown hook keeps a copy of that
    task's context, and with it the task's result (a source's whole text), until the process
    exits.
    """
    emit_event(
        event="funnel.run.started",
        resource={"prefect.resource.id": f"funnel.run.{run_id}", "funnel.as-of": str(day)},
    )


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
