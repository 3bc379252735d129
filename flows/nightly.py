"""The nightly funnel run: extract, clean, validate, load, model, publish, alert."""

# No `from __future__ import annotations` here: a served or deployed run loads this flow from
# its entrypoint and validates parameters against the real types (`date`), not strings.

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from uuid import uuid4

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from funnel import alerts, connectors, progress, snapshots, state, warehouse
from funnel.config import FunnelConfig, SourceConfig, load_config
from funnel.errors import DataQualityError, FunnelError
from funnel.extract import Extract, extract_files
from funnel.hygiene import CleanSource, clean_source, record_ids
from funnel.quality.validate import EntityOutcome, validate_entity
from funnel.report import files
from funnel.summary import RunSummary, SourceCounts, alert_text


@task(cache_policy=NONE)
def extract(config: FunnelConfig, source: SourceConfig) -> Extract:
    """Read every row of one source (files, or an API pull), keeping rows the reader rejects."""
    progress.step(f"extract {source.name}")
    if not connectors.is_api(source.format):
        return extract_files(config, source)
    watermark = None
    if source.incremental:
        with state.open_state(config.state_path) as con:
            watermark = state.get_watermark(con, source.name, source.entity, source.format)
    return connectors.extract_api(source, watermark)


@task(cache_policy=NONE)
def clean(config: FunnelConfig, source: SourceConfig, rows: Extract) -> CleanSource:
    """Map to canonical fields, normalise, type and deduplicate one source."""
    progress.step(f"clean {source.name}")
    return clean_source(config, source, rows)


@task(cache_policy=NONE)
def validate(
    config: FunnelConfig, run_id: str, as_of: date, cleaned: list[CleanSource]
) -> list[EntityOutcome]:
    """Run each entity's suite over its sources; log results and quarantine; gate the run."""
    past_day = as_of < config.today()  # a backfill: rows born after the day are deferred
    by_entity: dict[str, list[CleanSource]] = defaultdict(list)
    for c in cleaned:
        by_entity[c.source.entity].append(c)
    outcomes = []
    for entity, parts in by_entity.items():
        progress.step(f"validate {entity}")
        outcomes.append(validate_entity(entity, parts, as_of, config.validation, past_day))
    with state.open_state(config.state_path) as con:
        state.record_quality(con, run_id, outcomes)
    blocking = [b for o in outcomes for s in o.sources for b in s.blocking]
    if blocking:
        raise DataQualityError("blocking data-quality gate failed:\n  " + "\n  ".join(blocking))
    return outcomes


@task(cache_policy=NONE)
def load(
    config: FunnelConfig,
    run_id: str,
    as_of: date,
    outcomes: list[EntityOutcome],
    cleaned: list[CleanSource],
) -> None:
    """Replace each source's rows (an incremental pull: the pulled records' rows), advance the
    API sources' watermarks and append the day's snapshot changes, in one transaction."""
    progress.step("load")
    with state.open_state(config.state_path) as con:
        con.begin()
        state.load_rows(
            con,
            run_id,
            outcomes,
            [s.name for s in config.sources],
            {c.source.name: record_ids(c) for c in cleaned if c.extract.incremental},
        )
        for c in cleaned:
            if c.extract.watermark is not None:
                s = c.source
                state.set_watermark(con, run_id, s.name, s.entity, s.format, c.extract.watermark)
        snapshots.record_load(con, run_id, as_of)
        state.finish_run(con, run_id, "published", 0)
        con.commit()


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
    """Replace the published warehouse with the build in one atomic step, then the report."""
    progress.step("publish")
    warehouse.publish(build.path, config.warehouse_path)
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


def new_run_id(as_of: date) -> str:
    return f"{as_of:%Y%m%d}-{datetime.now():%H%M%S}-{uuid4().hex[:6]}"


@flow(name="funnel-nightly", log_prints=True)
def nightly(config_path: str, as_of: date | None = None) -> RunSummary:
    """One nightly run. Raises ConfigError (exit 2), DataQualityError (3) or FunnelError (1)."""
    config = load_config(Path(config_path))
    day = as_of or config.today()
    run_id = new_run_id(day)
    get_run_logger().info("run %s as of %s", run_id, day)
    with state.open_state(config.state_path) as con:
        state.start_run(con, run_id, day)
    try:
        # Each source is cleaned as soon as it is read: its text then waits on disk for the
        # rows that end in quarantine, so only one source's text is in memory at a time.
        cleaned = [clean(config, s, extract(config, s)) for s in config.sources]
        outcomes = validate(config, run_id, day, cleaned)
        load(config, run_id, day, outcomes, cleaned)
        checked = RunSummary.of(run_id, day, "published", outcomes, [])
        del cleaned, outcomes  # loaded: free the frames before the models run
        if checked.warned_share > config.alerts.warn_share:
            # before the models run, so the published pipeline_runs counts this alert
            alert(config, checked)
        build = build_models(config, run_id, day)
        report = build_report(config, run_id, build)
        publish(config, build, report)
    except BaseException as error:  # KeyboardInterrupt too: a backfill is safe to stop
        _fail(config, run_id, day, error)
        raise
    return replace(checked, headline=build.headline)


def _fail(config: FunnelConfig, run_id: str, day: date, error: BaseException) -> None:
    """Record the failure, drop the build file, and alert. The published file is untouched.

    Never raises: the run's own error is what the caller sees.
    """
    if isinstance(error, KeyboardInterrupt):
        status, code, message = "interrupted", 130, "interrupted (Ctrl-C)"
    else:
        status = "failed_dq" if isinstance(error, DataQualityError) else "failed"
        code, message = (error.exit_code if isinstance(error, FunnelError) else 1), str(error)
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
