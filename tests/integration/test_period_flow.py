"""Revenue operations by period over four nightly runs of an export whose expected close dates,
amounts, owners and stages change between nights (issue 23): opportunity_changes, the slippage
columns of opportunities and the pipeline_flow waterfall of a fiscal year from April."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows.nightly import nightly
from tests.integration.ops_helpers import query

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

CONFIG = """
[warehouse]
path = "warehouse/funnel.duckdb"
timezone = "UTC"

[calendar]
fiscal_year_start_month = 4

[[sources]]
name = "crm_deals"
entity = "opportunities"
path = "export/deals.csv"
[sources.columns]
opportunity_id = "Deal ID"
stage = "Stage"
amount = "Amount"
owner = "Owner"
created_at = "Created"
expected_close_date = "Close Date"
closed_at = "Closed"
[sources.constants]
currency = "EUR"
[sources.stages]
"Discovery" = "meeting"
"Proposal" = "proposal"
"Closed Won" = "won"
"Closed Lost" = "lost"
"""

HEADER = ("Deal ID", "Stage", "Amount", "Owner", "Created", "Close Date", "Closed")
D1 = ("D-1", "Proposal", "1000", "ann", "2026-09-01 09:00:00", "2026-10-15", "")
D2 = ("D-2", "Proposal", "2000", "ann", "2026-09-05 09:00:00", "2026-11-20", "")
D3 = ("D-3", "Discovery", "3000", "bob", "2026-09-10 09:00:00", "2026-12-31", "")
D4 = ("D-4", "Discovery", "500", "bob", "2026-10-02 09:00:00", "2026-10-20", "")


def _edit(row: tuple[str, ...], **changes: str) -> tuple[str, ...]:
    names = ("id", "stage", "amount", "owner", "created", "close", "closed")
    fields = dict(zip(names, row, strict=True))
    return tuple({**fields, **changes}.values())


NIGHTS = [
    (date(2026, 9, 28), [D1, D2, D3]),
    # D-1 pushed within the quarter and grown; D-3 pushed out of it (into January)
    (
        date(2026, 9, 30),
        [_edit(D1, close="2026-10-31", amount="1200"), D2, _edit(D3, close="2027-01-15")],
    ),
    # D-1 pushed again; D-2 won on 10-01 at 2100; D-4 created
    (
        date(2026, 10, 2),
        [
            _edit(D1, close="2026-11-30", amount="1200"),
            _edit(D2, stage="Closed Won", amount="2100", closed="2026-10-01 15:00:00"),
            _edit(D3, close="2027-01-15"),
            D4,
        ],
    ),
    # D-3 pulled back into the quarter and moved to cat; D-4 lost on 10-04 (amount 0)
    (
        date(2026, 10, 5),
        [
            _edit(D1, close="2026-11-30", amount="1200"),
            _edit(D2, stage="Closed Won", amount="2100", closed="2026-10-01 15:00:00"),
            _edit(D3, close="2026-11-15", owner="cat"),
            _edit(D4, stage="Closed Lost", amount="0", closed="2026-10-04 11:00:00"),
        ],
    ),
]

FLOW_COLUMNS = (
    "start_amount, start_count, created_amount, pulled_in_amount, amount_change,"
    " pushed_out_amount, won_amount, lost_amount, end_amount, end_count"
)


def _flow(warehouse: Path, kind: str, start: str, level: str, name: str) -> tuple[object, ...]:
    rows = query(
        warehouse,
        f"select period_label, {FLOW_COLUMNS} from pipeline_flow where period_kind = '{kind}'"
        f" and period_start = '{start}' and level = '{level}' and name = '{name}'",
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_nightly_changes_give_slippage_and_a_balanced_waterfall(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "export").mkdir(parents=True)
    config = project / "funnel.toml"
    config.write_text(CONFIG)
    for day, deals in NIGHTS:
        text = "".join(",".join(r) + "\n" for r in [HEADER, *deals])
        (project / "export" / "deals.csv").write_text(text)
        assert nightly(config_path=str(config), as_of=day).status == "published"
    warehouse = project / "warehouse" / "funnel.duckdb"

    changes = query(
        warehouse,
        "select opportunity_id, change_day, change_kind, days_moved, amount_change"
        " from opportunity_changes order by all",
    )
    assert changes == [
        ("D-1", date(2026, 9, 30), "amount_up", 16, 200.0),
        ("D-1", date(2026, 9, 30), "pushed", 16, 200.0),
        ("D-1", date(2026, 10, 2), "pushed", 30, 0.0),
        ("D-2", date(2026, 10, 2), "amount_up", 0, 100.0),
        ("D-2", date(2026, 10, 2), "category", 0, 100.0),
        ("D-2", date(2026, 10, 2), "stage_forward", 0, 100.0),
        ("D-3", date(2026, 9, 30), "pushed", 15, 0.0),
        ("D-3", date(2026, 10, 5), "owner", -61, 0.0),
        ("D-3", date(2026, 10, 5), "pulled_in", -61, 0.0),
        ("D-4", date(2026, 10, 5), "amount_down", 0, -500.0),
        ("D-4", date(2026, 10, 5), "category", 0, -500.0),
        ("D-4", date(2026, 10, 5), "stage_forward", 0, -500.0),
    ]
    slippage = query(
        warehouse,
        "select opportunity_id, first_expected_close, push_count, days_slipped"
        " from opportunities order by opportunity_id",
    )
    assert slippage == [
        ("D-1", date(2026, 10, 15), 2, 46),
        ("D-2", date(2026, 11, 20), 0, 0),
        ("D-3", date(2026, 12, 31), 1, -46),
        ("D-4", date(2026, 10, 20), 0, 0),
    ]

    # FY2027-Q3 (October to December 2026, a fiscal year from April), as of 10-05: start D-1
    # 1200 + D-2 2000; D-4 created 500 and lost; D-3 pulled in 3000; D-2 won 2100 (+100)
    assert _flow(warehouse, "quarter", "2026-10-01", "all", "(all)") == (
        "FY2027-Q3", 3200.0, 2, 500.0, 3000.0, 100.0, 0.0, 2100.0, 500.0, 4200.0, 2,
    )  # fmt: skip
    # October: D-1 pushed out to November; D-2 won in October though expected in November
    assert _flow(warehouse, "month", "2026-10-01", "all", "(all)") == (
        "FY2027-M07", 1200.0, 1, 500.0, 2000.0, 100.0, 1200.0, 2100.0, 500.0, 0.0, 0,
    )  # fmt: skip
    # D-3 counts under its current owner
    assert _flow(warehouse, "quarter", "2026-10-01", "owner", "cat") == (
        "FY2027-Q3", 0.0, 0, 0.0, 3000.0, 0.0, 0.0, 0.0, 0.0, 3000.0, 1,
    )  # fmt: skip
    # the quarter's end is the published open pipeline expected in it
    open_now = query(
        warehouse,
        "select sum(amount) from opportunities where is_open"
        " and expected_close_date between '2026-10-01' and '2026-12-31'",
    )
    assert open_now == [(4200.0,)]

    # the report opens with the quarter: its waterfall beside the previous quarter's
    report = (project / "warehouse" / "report.html").read_text(encoding="utf-8")
    assert report.index('id="this-quarter"') < report.index('id="headline"')
    assert "This quarter (FY2027-Q3)" in report
    assert "How the pipeline of the quarter moved" in report
    assert '<td>pulled in</td><td class="num">EUR 3,000</td>' in report
    assert "The open deals that slipped most" in report and "<td>D-1</td>" in report
