"""A writer beside the published warehouse (issue 20, failure 9).

Attack: a process opens the published file read-write (not read-only, as the README asks),
writes, and ends without closing it, which leaves its write-ahead log `funnel.duckdb.wal`
beside the file. After the next publish that log sat beside the new file and nobody could open
it ("WAL does not match"). Now the publish removes it with the replace: the new file opens, and
no log is left.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.nightly import nightly
from tests.integration.ops_helpers import DAYS, query, write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

WRITER = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create table my_notes as select 42 as answer")
con.execute("update leads set company = 'edited' where lead_id = 'L-01'")
os._exit(0)  # gone without closing: the write-ahead log stays
"""


def test_a_writers_wal_beside_the_warehouse_does_not_break_the_next_publish(
    tmp_path: Path,
) -> None:
    config = write_project(tmp_path)
    warehouse = tmp_path / "warehouse" / "funnel.duckdb"
    wal = warehouse.with_name("funnel.duckdb.wal")
    first = nightly(config_path=str(config), as_of=DAYS[-1])
    subprocess.run([sys.executable, "-c", WRITER, str(warehouse)], check=True, timeout=60)
    assert wal.is_file() and wal.stat().st_size > 0

    second = nightly(config_path=str(config), as_of=DAYS[-1])
    assert second.status == "published"
    assert not wal.exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert "my_notes" not in tables
        assert con.execute("select company from leads where lead_id = 'L-01'").fetchall() == [
            ("Acme",)
        ]
    assert query(warehouse, "select run_id from pipeline_runs order by started_at") == [
        (first.run_id,),
        (second.run_id,),
    ]
