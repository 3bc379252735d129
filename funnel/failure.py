"""Recording a run that failed: its status and message in the log, its build files gone."""

from __future__ import annotations

from datetime import date

from funnel import redact, state, warehouse
from funnel.config import FunnelConfig
from funnel.errors import DataQualityError, FunnelError
from funnel.report import files
from funnel.summary import RunSummary, SourceCounts


def record_failure(
    config: FunnelConfig, run_id: str, day: date, error: BaseException
) -> RunSummary | None:
    """Log the run as failed (failed_dq for a blocking data-quality gate, interrupted for
    Ctrl-C) and drop its build file and staged report; the published file is untouched.
    Returns the summary to alert on (None for an interrupted run: whoever stopped it knows)."""
    if isinstance(error, KeyboardInterrupt):
        status, code, message = "interrupted", 130, "interrupted (Ctrl-C)"
    else:
        status = "failed_dq" if isinstance(error, DataQualityError) else "failed"
        code = error.exit_code if isinstance(error, FunnelError) else 1
        message = redact.redact(str(error))
    warehouse.discard(config, run_id)
    files.discard_report(config.report_path, run_id)
    with state.open_state(config.state_path) as con:
        state.finish_run(con, run_id, status, code, message)
        counts = SourceCounts.from_log(con, run_id)
    if status == "interrupted":
        return None
    return RunSummary(run_id, day, status, counts, [], message)
