"""Rebuild every model from the stored state alone: no extract, no new rows, same tables."""

# No `from __future__ import annotations`: Prefect validates the flow's parameters (`date`).

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger

from flows.nightly import build_models, build_report, fail, publish, record_run, settle
from funnel import load, redact, runlock, snapshots, state
from funnel.config import FunnelConfig, load_config
from funnel.errors import ConfigError
from funnel.runlock import new_run_id
from funnel.summary import RunSummary


@flow(name="funnel-rebuild", log_prints=True)
def rebuild(config_path: str, as_of: date | None = None, run_id: str | None = None) -> RunSummary:
    """Build and publish the warehouse from the state file (raw rows of the last load and the
    snapshots), as of the last load's day by default. Raises ConfigError (exit 2) when there is
    nothing stored or the day is before the last load, RunLocked (4) when another run holds the
    warehouse, FunnelError (1) when a model fails."""
    redact.install_logging()
    config = load_config(Path(config_path))
    if not config.state_path.is_file():
        raise ConfigError(
            f"{config.state_path}: no stored state to rebuild from (run `funnel run`)"
        )
    lock = runlock.take(config.state_path, run_id or "(starting)", "funnel rebuild")
    try:
        return _rebuild(config, as_of, run_id, lock)
    finally:
        lock.release()


def _rebuild(
    config: FunnelConfig, as_of: date | None, run_id: str | None, lock: runlock.Lock
) -> RunSummary:
    with state.open_state(config.state_path) as con:
        loaded = snapshots.last_load(con)
    if loaded is None:
        raise ConfigError(f"{config.state_path}: no run has loaded rows yet (run `funnel run`)")
    day = as_of or loaded.as_of
    if day < loaded.as_of:
        raise ConfigError(
            f"--as-of {day} is before {loaded.as_of}, the day of the rows the state holds (run"
            f" {loaded.run_id}); to rebuild an earlier day run `funnel run --as-of {day}`"
        )
    run_id = run_id or new_run_id(day)
    lock.name(run_id, "funnel rebuild")
    get_run_logger().info(
        "rebuild %s as of %s from the state of run %s", run_id, day, loaded.run_id
    )
    with state.open_state(config.state_path) as con:
        settle(con, config, run_id)
        load.apply_lines(con)  # lines a stopped run staged and did not apply
        state.start_run(con, run_id, day)
        # its rows are the state's; published once its publish has happened (as a nightly run)
        state.finish_run(con, run_id, "loaded", 0, f"rebuild from the state of {loaded.run_id}")
    try:
        build = build_models(config, run_id, day)
        report = build_report(config, run_id, build)
        publish(config, build, report)
    except BaseException as error:
        fail(config, run_id, day, error)
        raise
    summary = RunSummary.of(run_id, day, "published", [], build.headline)
    record_run(config, summary)
    return summary
