"""Build the warehouse in a private file from the state file, then publish it atomically."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from glob import escape
from pathlib import Path
from typing import Any

import duckdb

from funnel import dictionary, sqlmodels
from funnel.config import FunnelConfig, HygieneConfig, MonitoringConfig, QualificationConfig
from funnel.errors import FunnelError
from funnel.state import LOG_TABLES
from transforms.schema import ENTITIES, raw_table_name

log = logging.getLogger(__name__)

HEADLINE_SQL = """
select trailing_window, currency, won, lost, win_rate, avg_deal_size, median_cycle_days,
       open_count, weighted_pipeline, sales_velocity
from funnel_metrics_daily where day = getvariable('as_of')
order by currency nulls first, list_position(['30d', '90d', '365d', 'all'], trailing_window)
"""


#: The [currency] settings as the models read them (stg_currency_config): one row.
CURRENCY_DDL = "create table cfg_currency (reporting varchar, default_currency varchar)"
#: The [calendar] settings as the models read them (stg_calendar_config): one row.
CALENDAR_DDL = "create table cfg_calendar (fiscal_year_start_month integer, week_start varchar)"

#: The [monitoring] settings (stg_monitoring_config) as key/value text rows, and its mutes.
MONITORING_DDL = (
    "create table cfg_monitoring (key varchar, value varchar)",
    "create table cfg_monitoring_mutes"
    " (metric varchar, dimension varchar, dimension_value varchar)",
    "create table cfg_hygiene (key varchar, value varchar)",
)


@dataclass(frozen=True)
class Build:
    """A finished, closed build file and the as-of day's headline metrics read from it."""

    path: Path
    headline: list[dict[str, Any]]
    #: The run that built it.
    run_id: str = ""


def build_path(config: FunnelConfig, run_id: str) -> Path:
    target = config.warehouse_path
    return target.with_name(f".{target.name}.build-{run_id}")


def sql_string(value: str | Path) -> str:
    """A SQL string literal of `value` (quotes doubled): for the statements that take no
    parameters, such as ATTACH."""
    return "'" + str(value).replace("'", "''") + "'"


def _expose_inputs(con: duckdb.DuckDBPyConnection, config: FunnelConfig) -> None:
    """Raw and log tables of the state file, and config tables, under the names models read."""
    for table in [raw_table_name(e) for e in ENTITIES] + list(LOG_TABLES) + ["state_snapshots"]:
        con.execute(f"create temp view {table} as select * from state.{table}")
    create_config_tables(con, config, temp=True)


def create_config_tables(
    con: duckdb.DuckDBPyConnection, config: FunnelConfig, temp: bool = False
) -> None:
    """The cfg_* tables and variables the models read the config from (temp: gone with the
    connection, so the published file holds none of them)."""

    def create(ddl: str) -> None:
        con.execute(ddl.replace("create table", "create temp table") if temp else ddl)

    con.execute("set variable response_sla_minutes = ?", [config.response.sla_minutes])
    create("create table cfg_stage_probability (stage varchar, probability double)")
    con.executemany(
        "insert into cfg_stage_probability values (?, ?)",
        list(config.forecast.stage_probability.items()),
    )
    params = qualification_params(config.qualification)
    create("create table cfg_qualification (key varchar, value varchar)")
    con.executemany("insert into cfg_qualification values (?, ?)", list(params.items()))
    create(CURRENCY_DDL)
    con.execute(
        "insert into cfg_currency values (?, ?)",
        [config.currency.reporting, config.currency.default],
    )
    create("create table cfg_stage_category (stage varchar, forecast_category varchar)")
    con.executemany(
        "insert into cfg_stage_category values (?, ?)",
        list(config.forecast.stage_category.items()),
    )
    create(CALENDAR_DDL)
    con.execute(
        "insert into cfg_calendar values (?, ?)",
        [config.calendar.fiscal_year_start_month, config.calendar.week_start],
    )
    create_monitoring_tables(
        con, config.monitoring, config.hygiene, config.response.sla_minutes, temp=temp
    )


def create_monitoring_tables(
    con: duckdb.DuckDBPyConnection,
    monitoring: MonitoringConfig,
    hygiene: HygieneConfig,
    lead_sla_minutes: int = 60,
    temp: bool = False,
) -> None:
    """cfg_monitoring (lists joined by ',') and cfg_monitoring_mutes, filled from
    [monitoring]; cfg_hygiene from [hygiene] and the speed-to-lead SLA ([response]
    sla_minutes), which lead_followup shares with lead_response."""
    for ddl in MONITORING_DDL:
        con.execute(ddl.replace("create table", "create temp table") if temp else ddl)
    params = {
        "windows": ",".join(monitoring.windows),
        "baseline_windows": str(monitoring.baseline_windows),
        "warn_z": str(monitoring.warn_z),
        "alert_z": str(monitoring.alert_z),
        "min_n": str(monitoring.min_n),
        "metrics": ",".join(monitoring.metrics),
        "dimensions": ",".join(monitoring.dimensions),
    }
    con.executemany("insert into cfg_monitoring values (?, ?)", list(params.items()))
    if monitoring.mutes:
        con.executemany(
            "insert into cfg_monitoring_mutes values (?, ?, ?)",
            [(m.metric, m.dimension, m.value) for m in monitoring.mutes],
        )
    rules = {
        "required_open_fields": ",".join(hygiene.required_open_fields),
        "stale_activity_days": str(hygiene.stale_activity_days),
        "lead_sla_minutes": str(lead_sla_minutes),
    }
    con.executemany("insert into cfg_hygiene values (?, ?)", list(rules.items()))


def qualification_params(q: QualificationConfig) -> dict[str, str]:
    """The [qualification] rules as the key/value text rows of cfg_qualification (lists joined
    by ','); stg_qualification_rules reads one column per key."""
    return {
        **{k: str(v) for k, v in q.model_dump().items() if not isinstance(v, list)},
        "authority_roles": ",".join(q.authority_roles),
        "need_signals": ",".join(q.need_signals),
        "nurture_labels": ",".join(q.nurture_labels),
    }


def build(config: FunnelConfig, run_id: str, as_of: date) -> Build:
    """Run every SQL model into a new file beside the published one; audits must pass."""
    path = build_path(config, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(
        str(path),
        config={
            "memory_limit": config.warehouse.memory_limit,
            "storage_compatibility_version": config.warehouse.storage_version,
        },
    )
    try:
        con.execute(f"attach {sql_string(config.state_path)} as state (read_only)")
        con.execute("set variable as_of = ?", [as_of])
        con.execute("set variable run_id = ?", [run_id])
        # One transaction for the models, audits and comments: in autocommit each of the hundreds
        # of statements (most of them COMMENT ON) would commit to the file on its own.
        con.begin()
        _expose_inputs(con, config)
        marts = sqlmodels.run_models(con)
        failed = {name: n for name, n in sqlmodels.run_audits(con).items() if n}
        if failed:
            raise FunnelError(
                "model audits failed: " + ", ".join(f"{k} ({v} rows)" for k, v in failed.items())
            )
        dictionary.apply_comments(con, marts)  # every published table and column described
        cur = con.execute(HEADLINE_SQL)
        names = [d[0] for d in cur.description or []]
        headline = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        con.commit()
        con.execute("detach state")
        con.execute("checkpoint")
    except BaseException:
        con.close()
        path.unlink(missing_ok=True)
        raise
    con.close()
    return Build(path, headline, run_id)


def wal_path(path: Path) -> Path:
    return Path(str(path) + ".wal")


def publish(build_file: Path, target: Path) -> None:
    """Move the closed build file onto the published path in one step (readers never block).

    The published file is never opened here. A `.wal` beside it was left by a process that
    opened it read-write and wrote: it belongs to the old file, and beside the new one DuckDB
    would refuse to open it ("WAL does not match"), so it goes with the replace.
    """
    wal = wal_path(target)
    if wal.exists():
        log.warning(
            "%s: a process opened the published warehouse read-write and left its write-ahead"
            " log; removed with this publish (open the warehouse read-only)",
            wal,
        )
        wal.unlink(missing_ok=True)
    os.replace(build_file, target)
    wal.unlink(missing_ok=True)  # a writer that was still open may have made another


def discard(config: FunnelConfig, run_id: str) -> None:
    """Remove a build file a failed run left behind."""
    path = build_path(config, run_id)
    path.unlink(missing_ok=True)
    wal_path(path).unlink(missing_ok=True)


def remove_stale_builds(config: FunnelConfig, keep: str) -> list[Path]:
    """Remove the build files (and their `.wal`) beside the warehouse of every run but `keep`:
    with the run lock held, they are left by runs that were stopped. Returns what went."""
    target = config.warehouse_path
    mine = build_path(config, keep)
    gone = []
    for path in sorted(target.parent.glob(f".{escape(target.name)}.build-*")):
        if path in (mine, wal_path(mine)):
            continue
        path.unlink(missing_ok=True)
        gone.append(path)
    return gone
