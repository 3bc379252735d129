"""The published sample opens with the tools analysts already have: the DuckDB shell installed
with funnel (DuckDB 1.x), and `funnel sql` for a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from funnel.commands import installed

pytestmark = pytest.mark.slow


def _published(config: Path) -> Path:
    return config.parent / "data" / "warehouse" / "funnel.duckdb"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd="/")
    assert result.returncode == 0, result.stderr
    return result


def test_the_duckdb_shell_installed_with_funnel_opens_the_published_file(
    sample_project: Path,
) -> None:
    shell = Path(installed("duckdb"))
    assert shell.is_file(), "the duckdb-cli package installs the DuckDB shell beside funnel"
    version = _run(str(shell), "--version").stdout
    assert version.startswith("v1."), version  # a 1.x shell: the file is in a format 1.x reads
    sql = (
        "select count(*) from leads; select comment from duckdb_tables() where table_name = 'leads'"
    )
    out = _run(str(shell), "-readonly", "-csv", str(_published(sample_project)), sql).stdout
    with duckdb.connect(str(_published(sample_project)), read_only=True) as con:
        (leads,) = con.execute("select count(*) from leads").fetchone() or (0,)
    assert out.splitlines()[1] == str(leads) and leads > 1000
    assert out.splitlines()[3].startswith('"Every loaded lead')


def test_funnel_sql_prints_a_table_csv_or_json(sample_project: Path) -> None:
    funnel = installed("funnel")
    sql = "select stage, count(*) as n from opportunities group by stage order by stage"
    with duckdb.connect(str(_published(sample_project)), read_only=True) as con:
        expected = [(s, n) for s, n in con.execute(sql).fetchall()]
    config = ["--config", str(sample_project)]
    table = _run(funnel, "sql", *config, sql).stdout.splitlines()
    assert table[0].split() == ["stage", "n"]
    assert [tuple(line.split()) for line in table[1:]] == [(s, str(n)) for s, n in expected]
    rows = list(csv.reader(io.StringIO(_run(funnel, "sql", *config, "-f", "csv", sql).stdout)))
    assert rows == [["stage", "n"], *([s, str(n)] for s, n in expected)]
    records = json.loads(_run(funnel, "sql", *config, "--format", "json", sql).stdout)
    assert records == [{"stage": s, "n": n} for s, n in expected]


def test_funnel_sql_names_what_is_wrong(sample_project: Path) -> None:
    def fails(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "funnel", "sql", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    typo = fails("--config", str(sample_project), "select * from leadz")
    assert typo.returncode == 2
    assert "leadz" in typo.stderr and str(_published(sample_project)) in typo.stderr
    assert "Traceback" not in typo.stderr
    # the published file is opened read-only: a query cannot change it
    write = fails("--config", str(sample_project), "delete from leads")
    assert write.returncode == 2 and "read-only" in write.stderr
