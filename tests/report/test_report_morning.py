"""The morning view: what changed, the metric breaches, the deals at risk and the waiting leads.

A hand-made warehouse for what each part lists, and the bundled sample in the headless browser
for the figures against the published tables.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page

from funnel.report.render import render
from tests.report.conftest import open_report
from tests.report.test_report_file import _kpi

TABLES = """
create table metric_checks as
select * from (values
    ('28d', 'win_rate', 'all', '(all)', null, 0.1, 0.3, 200, -5.77, 'alert', false),
    ('7d', 'created_amount', 'source', 'web', 'EUR', 900.0, 1000.0, 30, -2.5, 'warn', false),
    ('28d', 'lead_volume', 'source', 'partner', null, 2.0, 40.0, 40, -9.0, 'alert', true),
    ('28d', 'win_rate', 'owner', 'ann', null, 0.3, 0.3, 50, 0.0, 'ok', false)
) t(trailing_window, metric, dimension, dimension_value, currency, value, baseline, n, z,
    status, is_muted);

create table open_deal_health as
select * from (values
    ('O1', 'ann', 'proposal', 5000.0, 'EUR', 75, true, 40, true, 30, true, 0, 0, []::varchar[]),
    ('O2', null, 'meeting', 100.0, 'EUR', 20, false, 3, false, 1, true, 2, 1, ['amount']),
    ('O3', 'bob', 'meeting', 900.0, 'EUR', 0, false, 3, false, 1, false, 0, 0, []::varchar[])
) t(opportunity_id, owner, stage, amount, currency, risk_score, is_stalled, days_in_stage,
    is_activity_stale, days_since_activity, is_past_close, push_count, missing_field_count,
    missing_fields);

create table lead_followup as
select * from (values
    ('L1', 'cy', 'web', timestamp '2026-03-31 10:00', 840),
    ('L2', null, null, timestamp '2026-03-29 00:00', 4320)
) t(lead_id, owner, source, created_at, minutes_waiting);
"""


def test_morning_lists_breaches_deals_and_leads(metrics_only_warehouse: Path) -> None:
    with duckdb.connect(str(metrics_only_warehouse)) as con:
        con.execute(TABLES)
    html = render(metrics_only_warehouse)
    morning = html[html.index('id="morning"') : html.index('id="headline"')]
    assert (_kpi(html, "metric_breaches"), _kpi(html, "deals_at_risk")) == ("2", "2")
    assert _kpi(html, "leads_waiting") == "2"
    cells = [
        "<td>alert</td><td>win_rate</td><td>all</td><td>28d</td>"
        '<td class="num">10.0 %</td><td class="num">30.0 %</td><td class="num">200</td>'
        '<td class="num">-5.8</td>',
        "<td>warn</td><td>created_amount</td><td>source web</td><td>7d</td>"
        '<td class="num">EUR 900</td><td class="num">EUR 1,000</td>',
        "stalled 40 d in proposal; no activity for 30 d; close date passed",
        "close date passed; pushed 2x; missing amount",
        '<td>L1</td><td>cy</td><td>web</td><td>2026-03-31 10:00</td><td class="num">0.6 d</td>',
    ]
    for cell in cells:
        assert cell in morning
    assert "lead_volume" not in morning  # muted
    assert "O3" not in morning  # no risk
    assert morning.index("<td>L1</td>") < morning.index("<td>L2</td>")  # newest first


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_sample_morning_view_in_the_browser(
    tmp_path: Path, sample_project: Path, page: Page
) -> None:
    report = sample_project.parent / "data" / "warehouse" / "report.html"
    shown = open_report(page, report)
    assert shown.errors == []
    text = page.evaluate("document.getElementById('morning').innerText")
    ids = page.evaluate("Array.from(document.querySelectorAll('section')).map(s => s.id)")
    assert ids[0] == "morning"
    with duckdb.connect(str(report.with_name("funnel.duckdb")), read_only=True) as con:
        won_week, lost_week = con.execute(
            """
            select count(*) filter (where is_won), count(*) filter (where is_lost)
            from opportunities
            where cast(closed_at as date) between date '2026-10-25' and date '2026-10-31'
            """
        ).fetchone() or (0, 0)
        at_risk = con.execute("select count(*) from open_deal_health where risk_score > 0")
        (deals,) = at_risk.fetchone() or (0,)
        top = con.execute(
            """
            select opportunity_id, owner from open_deal_health
            order by risk_score desc, amount desc nulls last, opportunity_id limit 1
            """
        ).fetchone()
        (waiting,) = con.execute("select count(*) from lead_followup").fetchone() or (0,)
        newest = con.execute(
            "select lead_id, owner from lead_followup order by created_at desc, lead_id limit 1"
        ).fetchone()
    kpis = page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('#morning [data-metric]'))"
        ".map(el => [el.dataset.metric, el.querySelector('.value').innerText]))"
    )
    assert kpis["deals_at_risk"] == f"{deals:,}" and kpis["leads_waiting"] == f"{waiting:,}"
    won_row = next(line for line in text.splitlines() if line.startswith("won\t"))
    lost_row = next(line for line in text.splitlines() if line.startswith("lost\t"))
    assert won_row.split("\t")[2] == f"{won_week:,}"
    assert lost_row.split("\t")[2] == f"{lost_week:,}"
    assert top is not None and newest is not None
    assert f"{top[0]}\t{top[1]}" in text
    assert f"{newest[0]}\t{newest[1]}" in text
    page.locator("#morning").screenshot(path=tmp_path / "morning.png")
    assert (tmp_path / "morning.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
