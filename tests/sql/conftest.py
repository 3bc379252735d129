"""Fixtures for the SQL model tests: an in-memory DuckDB holding the tables the models read.

The raw_* tables come from funnel.schema; the log_* and cfg_* tables are the ones the pipeline
provides at model time (see funnel.state and funnel.warehouse).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import pytest

from funnel import sqlmodels
from funnel.config import DEFAULT_STAGE_PROBABILITY, QualificationConfig
from funnel.schema import ENTITIES, raw_table_ddl
from funnel.state import SNAPSHOT_DDL
from funnel.warehouse import CURRENCY_DDL, qualification_params

LOG_DDL = (
    """create table log_pipeline_runs (
        run_id varchar, as_of date, started_at timestamp, ended_at timestamp,
        status varchar, exit_code integer, message varchar, alerts_sent integer default 0)""",
    """create table log_run_sources (
        run_id varchar, source varchar, entity varchar, rows_read bigint, rows_loaded bigint,
        rows_quarantined bigint, rows_warned bigint, mode varchar, encoding varchar)""",
    """create table log_dq_results (
        run_id varchar, source varchar, entity varchar, "check" varchar, column_name varchar,
        severity varchar, rows_checked bigint, rows_failed bigint, passed boolean,
        checked_at timestamp, details varchar)""",
    """create table log_dq_quarantine (
        run_id varchar, source varchar, entity varchar, source_file varchar, source_line bigint,
        reasons varchar, checks varchar[], original_row varchar, quarantined_at timestamp)""",
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
) -> None:
    """Empty raw_* and log_* tables, cfg_* tables and the variables, as the pipeline sets them
    (the currency settings: [currency] reporting and default, none by default)."""
    for entity in ENTITIES.values():
        con.execute(raw_table_ddl(entity))
    for ddl in (*LOG_DDL, *SNAPSHOT_DDL):
        con.execute(ddl)
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
