"""Reading the run log: the last runs for `funnel status`, and where a backfill resumes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from funnel.config import FunnelConfig

RUNS_SQL = """
with sources as (
    select
        run_id,
        sum(rows_read)::bigint as rows_read,
        sum(rows_loaded)::bigint as rows_loaded,
        sum(rows_quarantined)::bigint as rows_quarantined,
    from log_run_sources
    group by run_id
)
select
    r.run_id,
    r.as_of,
    r.status,
    r.exit_code,
    r.started_at,
    r.ended_at,
    s.rows_read,
    -- a run that did not publish loaded nothing, whatever its checks would have let through
    case when r.status = 'published' then s.rows_loaded end as rows_loaded,
    s.rows_quarantined,
    {alerts} as alerts_sent,
    r.message,
from log_pipeline_runs as r
left join sources as s using (run_id)
order by r.started_at desc, r.run_id desc
limit ?
"""


@dataclass(frozen=True)
class RunRow:
    """One run as `funnel status` shows it."""

    run_id: str
    as_of: date
    status: str
    exit_code: int | None
    started_at: datetime
    ended_at: datetime | None
    rows_read: int | None
    rows_loaded: int | None
    rows_quarantined: int | None
    alerts_sent: int | None
    message: str | None

    @property
    def duration(self) -> timedelta | None:
        return self.ended_at - self.started_at if self.ended_at else None

    def as_dict(self) -> dict[str, object]:
        """The run as JSON-ready values (dates and times as ISO text)."""
        duration = self.duration
        return {
            **{k: v.isoformat() if isinstance(v, date) else v for k, v in vars(self).items()},
            "duration_seconds": None if duration is None else duration.total_seconds(),
        }


class LogUnavailable(Exception):
    """The state file does not exist yet, or a run holds it right now."""


class NoRunsYet(LogUnavailable):
    """No run has written the run log yet: not an error for `funnel status`."""


class LogBusy(LogUnavailable):
    """A running pipeline holds the state file: read the published pipeline_runs instead."""


PUBLISHED_SQL = """
select
    run_id, as_of, status, exit_code, started_at, ended_at, rows_read,
    case when status = 'published' then rows_loaded end, rows_quarantined, {alerts}, message,
from pipeline_runs
order by started_at desc, run_id desc
limit ?
"""


def published_runs(warehouse: Path, limit: int = 10) -> list[RunRow]:
    """The newest runs as the published warehouse's pipeline_runs lists them."""
    if not warehouse.is_file():
        raise LogUnavailable(f"no published warehouse at {warehouse}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = {r[0] for r in con.execute("describe pipeline_runs").fetchall()}
        alerts = "alerts_sent" if "alerts_sent" in columns else "null::integer"
        rows = con.execute(PUBLISHED_SQL.format(alerts=alerts), [limit]).fetchall()
    return [RunRow(*r) for r in rows]


def last_runs(config: FunnelConfig, limit: int = 10) -> list[RunRow]:
    """The newest runs of the state file's run log, failed and interrupted ones included."""
    path = config.state_path
    if not path.is_file():
        raise NoRunsYet(f"{path} does not exist")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as e:
        raise LogBusy(f"{path} is held by a running pipeline") from e
    try:
        columns = {r[0] for r in con.execute("describe log_pipeline_runs").fetchall()}
        alerts = "r.alerts_sent" if "alerts_sent" in columns else "null::integer"
        rows = con.execute(RUNS_SQL.format(alerts=alerts), [limit]).fetchall()
    finally:
        con.close()
    return [RunRow(*r) for r in rows]


def published_run_ids(warehouse: Path) -> set[str]:
    """Run ids in the published warehouse's pipeline_runs (empty if there is no warehouse)."""
    if not warehouse.is_file():
        return set()
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return {r[0] for r in con.execute("select run_id from pipeline_runs").fetchall()}
    except duckdb.Error:
        return set()


def days(start: date, end: date) -> list[date]:
    """Every day from start to end, both included, in order."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def resume_index(
    wanted: Sequence[date], published: Sequence[tuple[date, str]], in_warehouse: set[str]
) -> int:
    """How many leading days of a backfill are already done, so a re-run continues after them.

    `published` is (as_of, run_id) of the published runs, oldest first. The backfill of
    `wanted` got k days far when its last k published runs are exactly the first k days, in
    order, and the newest of them is the one in the published warehouse (its publish really
    happened). Anything else (a nightly run in between, a different range) starts over.
    """
    for k in range(min(len(wanted), len(published)), 0, -1):
        tail = published[-k:]
        if [d for d, _ in tail] == list(wanted[:k]) and tail[-1][1] in in_warehouse:
            return k
    return 0
