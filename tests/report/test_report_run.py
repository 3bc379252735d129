"""The nightly run and its report: published together, or neither."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.nightly import nightly
from funnel.errors import FunnelError
from funnel.report import sections
from funnel.report.model import Context, Section
from tests.conftest import copy_sample

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failing_report_fails_the_run_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = str(copy_sample(tmp_path))
    nightly(config_path=cfg, as_of=date(2026, 10, 30))
    wh = tmp_path / "data" / "warehouse" / "funnel.duckdb"
    report = wh.with_name("report.html")
    before = _sha(wh), _sha(report)
    assert "as of 2026-10-30</title>" in report.read_text()

    def broken(ctx: Context) -> Section | None:
        raise ValueError(f"no chart for {ctx.as_of}")

    # a section with a bug, added where new sections go
    monkeypatch.setattr(sections, "SECTIONS", [*sections.SECTIONS, broken])
    with pytest.raises(
        FunnelError, match=r"the report failed \(ValueError: no chart for 2026-10-31"
    ):
        nightly(config_path=cfg, as_of=date(2026, 10, 31))

    # the warehouse and its report stay the previous day's, byte for byte; nothing left behind
    assert (_sha(wh), _sha(report)) == before
    assert sorted(p.name for p in wh.parent.iterdir()) == [
        "funnel.duckdb",
        "funnel.state.duckdb",
        "funnel.state.duckdb.lock",  # the run lock (funnel.runlock), empty between runs
        "report.html",
    ]
    with duckdb.connect(str(wh.with_name("funnel.state.duckdb")), read_only=True) as con:
        status, code, message = con.execute(
            "select status, exit_code, message from log_pipeline_runs order by started_at desc"
        ).fetchall()[0]
    assert (status, code) == ("failed", 1)
    assert "[report] enabled = false" in message
