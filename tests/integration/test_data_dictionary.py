"""After a real nightly run on the sample, every published table and column is described."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.nightly import nightly
from funnel import dictionary
from funnel.errors import FunnelError
from tests.conftest import CONTRACT_TABLES, REPO

PAGE = REPO / "docs" / "data_dictionary.md"

pytestmark = pytest.mark.usefixtures("prefect_server")

AS_OF = date(2026, 10, 31)


def test_every_published_table_and_column_has_its_description(project: Path) -> None:
    summary = nightly(config_path=str(project / "funnel.toml"), as_of=AS_OF)
    assert summary.status == "published"
    wh = project / "data" / "warehouse" / "funnel.duckdb"
    docs = dictionary.load_all()
    with duckdb.connect(str(wh), read_only=True) as con:
        tables = dict(
            con.execute(
                "select table_name, comment from duckdb_tables()"
                " where database_name = current_database()"
            ).fetchall()
        )
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns()"
            " where database_name = current_database() order by table_name, column_index"
        ).fetchall()
    # the published file holds exactly the marts, each with its description as the comment
    assert set(tables) == set(docs) >= set(CONTRACT_TABLES)
    for table, comment in tables.items():
        assert comment == docs[table].description, table
        assert comment.strip()
    by_table: dict[str, list[str]] = {}
    for table, column, comment in columns:
        assert comment and comment.strip(), f"{table}.{column} has no comment"
        assert comment == docs[table].columns[column]
        by_table.setdefault(table, []).append(column)
    # the YAML lists the table's columns, in table order
    for table, names in by_table.items():
        assert list(docs[table].columns) == names, table
    assert tables["funnel_metrics_daily"].startswith("The headline sales metrics")
    assert ("funnel_metrics_daily", "win_rate") in {(t, c) for t, c, _ in columns}


def test_a_run_fails_unpublished_when_a_column_lost_its_description(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    marts = tmp_path_factory.mktemp("marts")
    for path in dictionary.MARTS_DIR.iterdir():
        shutil.copy(path, marts / path.name)
    yml = marts / "funnel_daily.yml"
    yml.write_text(
        "\n".join(line for line in yml.read_text().splitlines() if "stage_order:" not in line)
    )
    monkeypatch.setattr(dictionary, "MARTS_DIR", marts)
    with pytest.raises(FunnelError, match=r"stage_order of published table funnel_daily"):
        nightly(config_path=str(project / "funnel.toml"), as_of=AS_OF)
    assert not (project / "data" / "warehouse" / "funnel.duckdb").exists()


def test_docs_command_renders_the_committed_page_from_the_sample(
    tmp_path: Path, sample_project: Path
) -> None:
    """The committed page's column types are the sample warehouse's, and --check spots a stale
    page."""
    out = tmp_path / "dd.md"
    warehouse = sample_project.parent / "data" / "warehouse" / "funnel.duckdb"

    def funnel(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "funnel", "docs", "--out", str(out), *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        )

    assert funnel("--warehouse", str(warehouse), "--check").returncode == 1
    assert funnel("--warehouse", str(warehouse)).returncode == 0
    assert out.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")
    assert funnel("--warehouse", str(warehouse), "--check").returncode == 0
    out.write_text("stale\n")
    result = funnel("--warehouse", str(warehouse), "--check")
    assert result.returncode == 1
    assert "is out of date: run `funnel docs" in result.stderr
    missing = funnel("--warehouse", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2
    assert "none.duckdb" in missing.stderr and "make run" in missing.stderr
