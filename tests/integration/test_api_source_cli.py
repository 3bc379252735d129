"""`funnel run` itself (a subprocess, as a scheduler runs it) on an API source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO
from tests.integration.crm_standins import mock_pipedrive
from tests.integration.test_api_sources_nightly import CRMS, project

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]


def funnel_run(cfg: Path, token: str) -> subprocess.CompletedProcess[str]:
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(REPO),
        "TEST_PIPEDRIVE_TOKEN": token,
    }
    return subprocess.run(
        [sys.executable, "-m", "funnel", "run", "--config", str(cfg), "--as-of", "2026-10-31"],
        cwd=cfg.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_funnel_run_pulls_pipedrive_and_a_bad_token_exits_2(
    pipedrive_api: mock_pipedrive.PipedriveApi, tmp_path: Path
) -> None:
    cfg = project(tmp_path, CRMS["pipedrive"].api_sources(pipedrive_api))
    bad = funnel_run(cfg, "not-the-token-987")
    output = bad.stdout + bad.stderr
    assert bad.returncode == 2, output
    assert "source 'deals'" in output and "$TEST_PIPEDRIVE_TOKEN" in output
    assert "not-the-token-987" not in output
    assert not (tmp_path / "wh" / "funnel.duckdb").exists()

    ok = funnel_run(cfg, mock_pipedrive.TOKEN)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with duckdb.connect(str(tmp_path / "wh" / "funnel.duckdb"), read_only=True) as con:
        assert con.execute(
            "select count(*), count(*) filter (where is_won) from opportunities"
        ).fetchone() == (7, 2)
