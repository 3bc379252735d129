"""Publishing a run: its closed build file replaces the warehouse, its report the last one."""

from __future__ import annotations

from pathlib import Path

from funnel import state, warehouse
from funnel.config import FunnelConfig
from funnel.errors import FunnelError
from funnel.report import files


def stage_report(config: FunnelConfig, run_id: str, build: warehouse.Build) -> Path | None:
    """Render the morning report from the closed build file, beside report.html (not on it);
    None when the report is off. A failed report fails the run: nothing is published."""
    if not config.report.enabled:
        return None
    from funnel.report.render import stage_report as render  # only a run with a report needs it

    try:
        return render(build.path, config.report_path, config.warehouse_path, run_id)
    except Exception as e:
        raise FunnelError(
            f"the report failed ({type(e).__name__}: {e}); nothing published"
            " (set [report] enabled = false to publish without it)"
        ) from e


def publish_run(config: FunnelConfig, build: warehouse.Build, report: Path | None) -> str | None:
    """Replace the published warehouse with the build in one atomic step, then the report.

    The run is `publishing` in the log meanwhile and `published` once the warehouse is replaced
    (a run stopped in between is settled by the next one: funnel.recovery). Returns why the
    report could not replace the last one, if so: the warehouse is published all the same."""
    with state.open_state(config.state_path) as con:
        state.mark_status(con, build.run_id, "publishing")
    warehouse.publish(build.path, config.warehouse_path)
    with state.open_state(config.state_path) as con:
        state.mark_status(con, build.run_id, "published")
    if report is not None:
        try:
            files.publish_report(report, config.report_path)
        except OSError as e:
            report.unlink(missing_ok=True)
            return f"could not replace {config.report_path}: {e!r}"
    return None
