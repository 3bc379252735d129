"""The load's DuckDB limit: an allowance beyond what the connection holds already."""

from __future__ import annotations

import duckdb
import pytest

from funnel.state import limit_memory_growth


def _limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("select value from duckdb_settings() where name = 'memory_limit'").fetchone()
    assert row is not None
    number, unit = str(row[0]).split()
    return int(float(number) * 1024 ** ["KiB", "MiB", "GiB", "TiB"].index(unit) * 1024)


def test_the_limit_is_what_duckdb_holds_plus_the_allowance() -> None:
    con = duckdb.connect()
    con.execute("create table t as select range as i, repeat('x', 100) as s from range(200000)")
    (held,) = con.execute("select sum(memory_usage_bytes) from duckdb_memory()").fetchone() or (0,)
    assert held > 10 * 2**20
    limit_memory_growth(con, 10**9)
    assert _limit_bytes(con) == pytest.approx(held + 10**9, rel=0.01)
    limit_memory_growth(con, 512 * 2**20)
    assert _limit_bytes(con) == pytest.approx(held + 512 * 2**20, rel=0.01)
