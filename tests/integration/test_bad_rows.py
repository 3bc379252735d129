"""One bad row never stops a run or takes the machine (issue 20, failures 3, 4 and 5).

Into the tiny export go: a deal of amount 1e308 (it overflowed the models' DECIMAL sums, so
every night failed), one of -1e308 with `amount_not_negative` turned off, a lead created on
0001-01-01 (the day spine ran from year 1: gigabytes and minutes), a deal expected to close
in 2999, and the lead `L-01` twice more as lookalikes, followed by a NUL and by a zero-width
space (they loaded as three leads). The run publishes; each bad row is quarantined with its
reason and its original text; the lookalikes are one lead; the day spine starts at the first
real day.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest

from flows.nightly import nightly
from tests.integration.ops_helpers import DAYS, query, write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

LEAD_ROWS = (
    "L-12,0001-01-01 00:00:00,old@acme.io,Acme,New\n"
    "L-01\x00,2026-10-01 09:00:00,ada@acme.io,Acme,Working\n"
    "L-01\u200b,2026-10-01 09:00:00,ada@acme.io,Acme,Working\n"
)
DEAL_ROWS = (
    "D-11,,Proposal,1e308,2026-10-10 09:00:00,,2026-12-01\n"
    "D-12,,Proposal,-1e308,2026-10-11 09:00:00,,2026-12-01\n"
    "D-13,,Proposal,5000,2026-10-12 09:00:00,,2999-01-01\n"
    "D-14,,Proposal,6000,2026-10-13 09:00:00,,2030-06-30\n"
)


def _project(root: Path) -> Path:
    config = write_project(root)
    export = root / "export"
    with (export / "leads.csv").open("a", encoding="utf-8") as fh:
        fh.write(LEAD_ROWS)
    deals = (export / "deals.csv").read_text().splitlines()
    deals = [deals[0] + ",Expected Close"] + [d + "," for d in deals[1:]]
    (export / "deals.csv").write_text("\n".join(deals) + "\n" + DEAL_ROWS)
    text = config.read_text().replace(
        'closed_at = "Close Date"',
        'closed_at = "Close Date"\nexpected_close_date = "Expected Close"',
    )
    config.write_text(
        text
        + "\n[validation]\nmax_error_share = 0.5\n"
        + 'severity = { amount_not_negative = "off" }\n'
    )
    return config


def test_bad_rows_are_quarantined_and_the_run_publishes(tmp_path: Path) -> None:
    config = _project(tmp_path)
    started = time.monotonic()
    summary = nightly(config_path=str(config), as_of=DAYS[-1])
    took = time.monotonic() - started
    assert summary.status == "published"
    assert took < 120  # the year-1 lead made this run spill 12 GB and not finish in 300 s

    warehouse = tmp_path / "warehouse" / "funnel.duckdb"
    rows = query(
        warehouse,
        "select source, source_line, reasons, original_row from dq_quarantine order by all",
    )
    quarantined = {(s, line): (reasons, json.loads(o)) for s, line, reasons, o in rows}
    assert {k: v[0] for k, v in quarantined.items()} == {
        ("crm_deals", 12): "amount 1e+308 is beyond the plausible ±1,000,000,000,000"
        " ([validation] max_amount)",
        ("crm_deals", 13): "amount -1e+308 is beyond the plausible ±1,000,000,000,000"
        " ([validation] max_amount)",
        ("crm_deals", 14): "expected_close_date 2999-01-01 is after 2036-10-28 (the as-of day +"
        " [validation] date_horizon_days)",
        ("crm_leads", 2): "duplicate lead_id: superseded by the row on line 15",
        ("crm_leads", 13): "created_at 0001-01-01 00:00:00 is before 1900-01-01",
        ("crm_leads", 14): "duplicate lead_id: superseded by the row on line 15",
    }
    # the originals stay as the file spelled them
    assert quarantined[("crm_leads", 14)][1]["Lead ID"] == "L-01\x00"
    assert quarantined[("crm_leads", 2)][1]["Lead ID"] == "L-01"
    assert quarantined[("crm_deals", 12)][1]["Amount"] == "1e308"

    # the lookalikes are one lead, and the future expected close that is plausible loads
    assert query(warehouse, "select count(*), count(distinct lead_id) from leads") == [(11, 11)]
    assert query(
        warehouse, "select lead_id, source_line from leads where lead_id like 'L-01%'"
    ) == [("L-01", 15)]
    assert query(
        warehouse, "select expected_close_date from opportunities where opportunity_id = 'D-14'"
    ) == [(date(2030, 6, 30),)]
    # the day spine starts at the first real day: 31 days, four trailing windows each
    assert query(warehouse, "select min(day), count(*) from funnel_metrics_daily") == [
        (date(2026, 10, 1), 31 * 4)
    ]
    assert query(
        warehouse, "select rows_read, rows_loaded, rows_quarantined from pipeline_runs"
    ) == [(14 + 14, 11 + 11, 3 + 3)]
