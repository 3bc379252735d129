"""The load's DuckDB limit: an allowance beyond what the connection holds already."""

from __future__ import annotations

import duckdb
import pytest

from funnel.config import WarehouseConfig
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


def test_the_limit_is_at_least_the_floor_given() -> None:
    con = duckdb.connect()
    limit_memory_growth(con, 10**6, at_least=3 * 2**30)
    assert _limit_bytes(con) == pytest.approx(3 * 2**30, rel=0.01)
    limit_memory_growth(con, 2 * 2**30, at_least=10**6)
    assert _limit_bytes(con) == pytest.approx(2 * 2**30, rel=0.05)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1GB", 10**9),
        ("4GB", 4 * 10**9),
        ("1GiB", 2**30),
        ("512MiB", 2**29),
        ("1.5 GB", 15 * 10**8),
    ],
)
def test_the_configured_memory_limit_reads_as_duckdb_reads_it(text: str, size: int) -> None:
    assert WarehouseConfig(memory_limit=text).memory_limit_bytes == size
    con = duckdb.connect()
    con.execute(f"set memory_limit = '{text}'")
    duckdb_reads = _limit_bytes(con)
    con.execute(f"set memory_limit = '{size}B'")
    assert _limit_bytes(con) == duckdb_reads
