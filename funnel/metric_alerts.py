"""Metric alerts: one webhook message a night naming the metric checks that turned bad.

A breach is a row of the published `metric_checks` with status warn or alert that is not
muted. Each breach is sent once: the state file remembers the open ones
(`state_metric_alerts`), and a breach is sent again only when it recovers and breaks again,
or when a warning becomes an alert. A breach that is no longer there is announced as
recovered, once. Nothing new, nothing sent. The message is a message of its own, never part of
a run alert; it goes to the same `[alerts]` webhook under the same rules (retries, a dead
webhook is logged and never fails the run). Undelivered, nothing is remembered, so the next
night sends it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from funnel import alerts, state
from funnel.config import FunnelConfig

log = logging.getLogger(__name__)

STATE_DDL = """create table if not exists state_metric_alerts (
    trailing_window varchar, metric varchar, dimension varchar, dimension_value varchar,
    currency varchar, status varchar, value double, baseline double, n bigint, z double,
    run_id varchar, as_of date)"""

#: Metrics whose value is a share (shown as a percentage), and those in days.
RATES = frozenset({"win_rate", "stage_conversion", "lead_to_win"})
DAYS = frozenset({"median_cycle_days"})

Key = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Check:
    """One judged metric: a row of metric_checks (or a remembered breach)."""

    trailing_window: str
    metric: str
    dimension: str
    dimension_value: str
    currency: str | None
    status: str
    value: float | None
    baseline: float | None
    n: int
    z: float | None

    @property
    def key(self) -> Key:
        return (
            self.trailing_window,
            self.metric,
            self.dimension,
            self.dimension_value,
            self.currency or "",
        )


@dataclass(frozen=True)
class Plan:
    """What tonight's message says: breaches new since the last message, and recoveries."""

    new: list[Check]
    recovered: list[tuple[Check, Check | None]]  # the remembered breach, and its check tonight
    still_open: int

    @property
    def empty(self) -> bool:
        return not self.new and not self.recovered


_COLUMNS = (
    "trailing_window, metric, dimension, dimension_value, currency, status, value, baseline, n, z"
)


def read_checks(warehouse: Path) -> list[Check]:
    """Every check of the published warehouse (read-only)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"select {_COLUMNS}, is_muted from metric_checks"
            " order by trailing_window, metric, dimension, dimension_value, currency"
        ).fetchall()
    return [Check(*row[:-1]) for row in rows if not row[-1]]


def open_breaches(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """The breaches sent and not yet recovered."""
    con.execute(STATE_DDL)
    rows = con.execute(f"select {_COLUMNS} from state_metric_alerts").fetchall()
    return [Check(*row) for row in rows]


def plan(remembered: Iterable[Check], tonight: Iterable[Check]) -> Plan:
    """New breaches (not open, or a warning that became an alert) and recovered ones."""
    known = {c.key: c for c in remembered}
    checks = {c.key: c for c in tonight}
    breaching = breaches(list(checks.values()))
    new = [
        c
        for c in breaching
        if c.key not in known or (known[c.key].status == "warn" and c.status == "alert")
    ]
    breached = {c.key for c in breaching}
    recovered = [(old, checks.get(key)) for key, old in known.items() if key not in breached]
    return Plan(new, recovered, len(breaching) - len(new))


def remember(con: duckdb.DuckDBPyConnection, done: Plan, run_id: str, as_of: date) -> None:
    """After delivery: the new breaches are open, the recovered ones closed."""
    con.execute(STATE_DDL)
    gone = [c.key for c in done.new] + [old.key for old, _ in done.recovered]
    for key in gone:
        con.execute(
            "delete from state_metric_alerts where trailing_window = ? and metric = ?"
            " and dimension = ? and dimension_value = ? and coalesce(currency, '') = ?",
            list(key),
        )
    for c in done.new:
        con.execute(
            "insert into state_metric_alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                c.trailing_window,
                c.metric,
                c.dimension,
                c.dimension_value,
                c.currency,
                c.status,
                c.value,
                c.baseline,
                c.n,
                c.z,
                run_id,
                as_of,
            ],
        )


def figure(metric: str, value: float | None, currency: str | None) -> str:
    """A metric's value as a reader reads it: 12.5%, 42 days, 1,250 EUR, 30."""
    if value is None:
        return "none"
    if metric in RATES:
        return f"{value:.1%}"
    if metric in DAYS:
        return f"{value:,.1f} days"
    if currency is not None:
        per_day = "/day" if metric == "sales_velocity" else ""
        return f"{value:,.0f} {currency}{per_day}"
    return f"{value:,.0f}"


def _what(c: Check) -> str:
    where = "all" if c.dimension == "all" else f"{c.dimension} {c.dimension_value}"
    return f"{c.metric} ({where}, {c.trailing_window})"


def message(done: Plan, as_of: date, run_id: str) -> str:
    """The night's metric alert: a line per new breach, then a line per recovery."""
    parts = []
    if done.new:
        parts.append(f"{len(done.new)} new breach{'es' if len(done.new) > 1 else ''}")
    if done.recovered:
        parts.append(f"{len(done.recovered)} recovered")
    lines = [f"*funnel metrics*: {', '.join(parts)} (as of {as_of})", f"run id: `{run_id}`"]
    for c in done.new:
        z = "" if c.z is None else f", z {c.z:.1f}"
        lines.append(
            f"• {c.status.upper()} {_what(c)}: {figure(c.metric, c.value, c.currency)}"
            f" against a baseline of {figure(c.metric, c.baseline, c.currency)}, n {c.n:,}{z}"
        )
    for old, now in done.recovered:
        tonight = (
            f"now {figure(now.metric, now.value, now.currency)} against"
            f" {figure(now.metric, now.baseline, now.currency)}, n {now.n:,}"
            if now is not None
            else "no longer checked"
        )
        lines.append(
            f"• recovered {_what(old)}: {tonight}"
            f" (was {figure(old.metric, old.value, old.currency)})"
        )
    if done.still_open:
        lines.append(f"{done.still_open} earlier breaches still open (sent before)")
    lines.append("all checks: select * from metric_checks where status <> 'ok'")
    return "\n".join(lines)


def send(config: FunnelConfig, run_id: str, as_of: date) -> bool:
    """After a publish: send the night's metric alert, if anything changed; True when sent.

    Never raises: a published run stays published whatever happens here."""
    if not config.monitoring.alerts:
        return False
    try:
        tonight = read_checks(config.warehouse_path)
        with state.open_state(config.state_path) as con:
            done = plan(open_breaches(con), tonight)
        if done.empty:
            return False
        if not alerts.send_alert(config.alerts, message(done, as_of, run_id)):
            return False  # remembered nothing: tomorrow's message names them again
        with state.open_state(config.state_path) as con:
            remember(con, done, run_id, as_of)
        return True
    except Exception as e:
        log.warning("metric alert not sent: %s: %s", type(e).__name__, e)
        return False


def breaches(checks: Sequence[Check]) -> list[Check]:
    """The checks that breach (warn or alert), worst first."""
    return sorted(
        (c for c in checks if c.status in ("warn", "alert")),
        key=lambda c: (c.status != "alert", c.z if c.z is not None else 0.0),
    )
