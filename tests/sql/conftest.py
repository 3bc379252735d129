"""Fixtures for the SQL model tests: an in-memory DuckDB holding the tables the models read.

The raw_*, log_* and snapshot tables are the state file's own (funnel.state.create_tables); the
cfg_* tables and variables are the ones the pipeline provides at model time (funnel.warehouse).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import pytest

from funnel import sqlmodels
from funnel.config import (
    DEFAULT_STAGE_CATEGORY,
    DEFAULT_STAGE_PROBABILITY,
    HygieneConfig,
    MonitoringConfig,
    QualificationConfig,
)
from funnel.state import create_tables
from funnel.warehouse import (
    CALENDAR_DDL,
    CURRENCY_DDL,
    create_monitoring_tables,
    qualification_params,
)

#: The defaults of funnel.config (ForecastConfig, QualificationConfig), as the pipeline passes them.
STAGE_PROBABILITY: dict[str, float] = dict(DEFAULT_STAGE_PROBABILITY)
QUALIFICATION: dict[str, str] = qualification_params(QualificationConfig())
AS_OF = date(2024, 3, 31)

Rows = Sequence[Mapping[str, Any]]


def create_inputs(
    con: duckdb.DuckDBPyConnection,
    as_of: date = AS_OF,
    stage_probability: Mapping[str, float] | None = None,
    qualification: Mapping[str, str] | None = None,
    reporting_currency: str | None = None,
    default_currency: str | None = None,
    fiscal_year_start_month: int = 1,
    week_start: str = "monday",
) -> None:
    """Empty raw_* and log_* tables, cfg_* tables and the variables, as the pipeline sets them
    (the currency settings: [currency] reporting and default, none by default; the [calendar]
    settings, calendar years and Monday weeks by default)."""
    create_tables(con)
    con.execute("create table cfg_stage_probability (stage varchar, probability double)")
    probabilities = STAGE_PROBABILITY if stage_probability is None else stage_probability
    if probabilities:
        con.executemany(
            "insert into cfg_stage_probability values (?, ?)", list(probabilities.items())
        )
    con.execute("create table cfg_qualification (key varchar, value varchar)")
    params = QUALIFICATION if qualification is None else qualification
    if params:
        con.executemany("insert into cfg_qualification values (?, ?)", list(params.items()))
    con.execute(CURRENCY_DDL)
    con.execute("insert into cfg_currency values (?, ?)", [reporting_currency, default_currency])
    con.execute("create table cfg_stage_category (stage varchar, forecast_category varchar)")
    con.executemany(
        "insert into cfg_stage_category values (?, ?)", list(DEFAULT_STAGE_CATEGORY.items())
    )
    con.execute(CALENDAR_DDL)
    con.execute("insert into cfg_calendar values (?, ?)", [fiscal_year_start_month, week_start])
    create_monitoring_tables(con, MonitoringConfig(), HygieneConfig())
    con.execute("set variable as_of = ?", [as_of])
    con.execute("set variable run_id = 'test-run'")
    # [response] sla_minutes at its default
    con.execute("set variable response_sla_minutes = 60")


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: Rows) -> None:
    """Insert rows given as dicts (missing columns NULL; source_system defaults to 'test')."""
    for row in rows:
        values = dict(row)
        if table.startswith("raw_"):
            values.setdefault("source_system", "test")
        cols = ", ".join(f'"{c}"' for c in values)
        marks = ", ".join("?" for _ in values)
        con.execute(f"insert into {table} ({cols}) values ({marks})", list(values.values()))


def fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    """The query's rows as dicts."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with empty inputs, as_of = 2024-03-31 and the default config."""
    connection = duckdb.connect()
    create_inputs(connection)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def build(con: duckdb.DuckDBPyConnection) -> Callable[[], list[str]]:
    """Run every model on the fixture connection; fails the test on any audit offence."""

    def _build() -> list[str]:
        marts = sqlmodels.run_models(con)
        failed = {name: n for name, n in sqlmodels.run_audits(con).items() if n}
        assert failed == {}, f"audits failed: {failed}"
        return marts

    return _build
