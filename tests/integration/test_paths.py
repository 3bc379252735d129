"""Paths and SQL (issue 20, failure 8).

Attacks: a `state_path` whose quote smuggles SQL into the build's ATTACH (it ran), an
apostrophe in the warehouse folder (a parser error after the load), a source name with `/`
(a FileNotFoundError from the temporary files it names), and a source path that is a
directory, a fifo, a device or a symlink loop (exit 1, or a run that hangs on the fifo). Now
the paths are quoted, and the rest are config errors (exit 2) naming the key, at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.nightly import nightly
from tests.conftest import REPO
from tests.integration.ops_helpers import DAYS, query, run_in_group, write_project

#: A state file name that, pasted into `attach '...' as state`, runs its own statements.
SMUGGLED = "st' as junk; create table pwned as select 42 as x; attach ':memory:"


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_quotes_in_the_state_and_warehouse_paths_are_only_names(tmp_path: Path) -> None:
    root = tmp_path / "O'Brien's exports"
    config = write_project(root)
    config.write_text(
        config.read_text().replace(
            'path = "warehouse/funnel.duckdb"',
            f'path = "warehouse/funnel.duckdb"\nstate_path = "state/{SMUGGLED}.duckdb"',
        )
    )
    summary = nightly(config_path=str(config), as_of=DAYS[-1])
    assert summary.status == "published"
    warehouse = root / "warehouse" / "funnel.duckdb"
    state = root / "state" / f"{SMUGGLED}.duckdb"
    assert state.is_file()
    tables = {r[0] for r in query(warehouse, "select table_name from duckdb_tables()")}
    assert "pwned" not in tables and "leads" in tables
    assert query(warehouse, "select count(*) from leads") == [(11,)]
    assert query(state, "select status from log_pipeline_runs") == [("published",)]


def _run(config: Path) -> subprocess.CompletedProcess[str]:
    return run_in_group(  # a run that reads a fifo hangs: the timeout fails the test instead
        [sys.executable, "-m", "funnel", "run", "--config", str(config)],
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        timeout=60,
    )


def test_a_source_name_with_a_slash_is_a_config_error(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    config.write_text(config.read_text().replace('name = "crm_leads"', 'name = "crm/leads"'))
    result = _run(config)
    assert result.returncode == 2, result.stderr
    assert (
        "sources[crm/leads].name: source name 'crm/leads' may hold only letters, digits, '_',"
        " '-' and '.'"
    ) in result.stderr


def _loop(path: Path) -> str:
    other = path.with_name("loop-b.csv")
    path.symlink_to(other)
    other.symlink_to(path)
    return "Too many levels of symbolic links"


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("directory", lambda p: (p.mkdir(), "is a directory, not a file")[1]),
        ("fifo", lambda p: (os.mkfifo(p), "is a fifo (reading it would wait for a writer)")[1]),
        ("symlink loop", _loop),
        ("device", lambda p: (p.symlink_to("/dev/zero"), "is a character device, not a file")[1]),
    ],
)
def test_a_source_path_that_is_no_file_is_a_config_error(
    kind: str, make: object, tmp_path: Path
) -> None:
    config = write_project(tmp_path)
    target = tmp_path / "export" / "odd.csv"
    expected = make(target)  # type: ignore[operator]
    config.write_text(config.read_text().replace("export/leads.csv", "export/odd.csv"))
    result = _run(config)
    assert result.returncode == 2, (kind, result.stderr)
    message = " ".join(result.stderr.split())
    assert f"funnel.toml: sources[crm_leads].path: {target}" in message, message
    assert expected in message, message
