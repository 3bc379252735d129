"""A cut export never empties the warehouse (issue 20, failure 2).

The leads file of the night before had 11 leads; tonight it is cut to its header line. Every
row of it is valid (there are none), so only the volume guard can see it: the run blocks (exit
3), the published warehouse stays byte for byte, one alert names the source and the check.
With `max_row_drop = 1.0` on that source (the drop is real) the next run publishes it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from flows.nightly import nightly
from funnel.errors import DataQualityError
from tests.integration.ops_helpers import DAYS, WEBHOOK_ENV, query, webhook, write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_leads_file_cut_to_its_header_blocks_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_project(tmp_path)
    warehouse = tmp_path / "warehouse" / "funnel.duckdb"
    state = warehouse.with_name("funnel.state.duckdb")
    leads = tmp_path / "export" / "leads.csv"
    with webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        first = nightly(config_path=str(config), as_of=DAYS[-1])
        assert query(warehouse, "select count(*) from leads") == [(11,)]
        before = _sha(warehouse)

        leads.write_text(leads.read_text().splitlines()[0] + "\n")  # the header line alone
        with pytest.raises(DataQualityError) as e:
            nightly(config_path=str(config), as_of=DAYS[-1])
        assert e.value.exit_code == 3
        assert (
            f"crm_leads: 0 rows loaded, 11 in the last published run {first.run_id}: a drop of"
            " 100.0%, above max_row_drop 50%"
        ) in str(e.value)
        assert _sha(warehouse) == before  # nothing published
        (text,) = hook.delivered
        assert "blocking data-quality gate failed" in text
        assert "• crm_leads: row_volume (error) 11 of 11 rows" in text
        assert query(
            state,
            'select source, "check", rows_checked, rows_failed, passed from log_dq_results'
            " where \"check\" = 'row_volume' order by run_id, source",
        ) == [
            ("crm_deals", "row_volume", 10, 0, True),  # the second run: deals are as before
            ("crm_leads", "row_volume", 11, 11, False),
        ]

        # the drop is real: the source's own max_row_drop lets it through, once
        config.write_text(
            config.read_text().replace(
                'name = "crm_leads"', 'name = "crm_leads"\nmax_row_drop = 1.0'
            )
        )
        third = nightly(config_path=str(config), as_of=DAYS[-1])
    assert third.status == "published"
    assert query(warehouse, "select count(*) from leads") == [(0,)]
    assert query(warehouse, "select status from pipeline_runs order by started_at") == [
        ("published",),
        ("failed_dq",),
        ("published",),
    ]


def test_a_drop_within_max_row_drop_passes(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    leads = tmp_path / "export" / "leads.csv"
    nightly(config_path=str(config), as_of=DAYS[-1])
    lines = leads.read_text().splitlines()
    leads.write_text("\n".join(lines[:7]) + "\n")  # 6 of 11 leads: a drop of 45 %
    assert nightly(config_path=str(config), as_of=DAYS[-1]).status == "published"
