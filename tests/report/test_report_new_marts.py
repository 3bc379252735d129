"""Sections over the issue-3 marts appear once those tables are in the warehouse.

Hand-made rows in the tables' published shape (sql/marts/<table>.yml lists the columns).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from funnel.report.render import render
from tests.report.test_report_file import FETCHING

TABLES = """
create table stage_durations as
select date '2026-03-31' as day, '90d' as trailing_window, stage, stage_order,
       10 as exited, 6.5 as avg_days_in_stage, 5.0 as median_days_in_stage, 6 as exited_forward,
       1 as exited_back, 0 as exited_to_won, 3 as exited_to_lost, 0.3 as lost_share,
       12 as entered, 5 as dropped, 3 as dropped_lost, 2 as dropped_open,
       5 / 12 as drop_off_rate, 2 as still_in_stage, 11.5 as median_open_age_days
from (values ('prospecting', 1), ('qualification', 2), ('won', 6)) s(stage, stage_order);

create table stage_bottlenecks_weekly as
select date '2026-03-23' as week, date '2026-03-29' as week_end, true as is_complete,
       14 as exits, 4 as lost_exits, 'qualification' as stall_stage, 9.5 as stall_median_days,
       10.0 as stall_avg_days, 3 as stall_exits, 'prospecting' as loss_stage, 3 as loss_exits,
       0.25 as loss_share;

create table forecast_lookback as
select date '2026-03-01' as close_month, date '2026-03-01' as forecast_day,
       true as is_complete, 7 as open_count, 70000.0 as open_amount,
       31000.0 as weighted_amount, 0 as without_probability, 'snapshot' as basis,
       7 as open_from_snapshot, 0 as open_from_stage_history, 0 as open_from_current,
       3 as won_count,
       36270.0 as won_amount, 2 as won_from_pipeline_count, 30000.0 as won_from_pipeline_amount,
       1.17 as won_to_weighted_ratio, null::varchar as currency;

create table qualification_outcomes as
select * from (values
    ('qualified', 40, 0.4, 80.5, 30, 12, 5, 120000.0, 0.75, 0.3, 0.4, 2.0, null),
    ('nurture', 35, 0.35, 40.0, 10, 3, 2, 30000.0, 0.2857, 0.0857, 0.3, 0.57, null),
    ('disqualified', 25, 0.25, 10.0, 0, 0, 0, 0.0, 0.0, 0.0, null, 0.0, null)
) t(status, leads, share_of_leads, avg_score, converted, won, in_pipeline, won_amount,
    converted_share, won_share, won_share_of_converted, won_share_lift, currency);

create table stage_transitions as
select * from (values
    ('prospecting', 1, timestamp '2026-03-01 09:00', 3.0, false, 'qualification', 'forward'),
    ('qualification', 2, timestamp '2026-03-04 09:00', null, true, null, null)
) t(stage, stage_order, entered_at, days_in_stage, is_current, next_stage, direction);

create table pipeline_forecast as
select date '2026-03-31' as day, date '2026-04-01' as close_month, 'qualification' as stage,
       1 as open_count, 5000.0 as open_amount, 0.25 as probability, 1250.0 as weighted_amount,
       false as is_overdue, null::varchar as currency;

create table activity_outcomes as
select * from (values
    ('won', '(all)', 15, 15, 45, 3.0, 3.0), ('lost', '(all)', 10, 8, 20, 2.0, 2.0),
    ('won', 'Call', 15, 12, 30, 2.0, 2.0), ('lost', 'Call', 10, 6, 12, 1.2, 1.0)
) t(outcome, activity_type, opportunities, opportunities_with_activity, activities,
    avg_activities, median_activities);
"""


def test_the_new_marts_get_their_sections(metrics_only_warehouse: Path) -> None:
    with duckdb.connect(str(metrics_only_warehouse)) as con:
        con.execute(TABLES)
    html = render(metrics_only_warehouse)
    assert FETCHING.search(html) is None
    for section in ("stalls", "forecast", "qualification", "touches"):
        assert f'id="{section}"' in html
    assert "from stage_transitions, stage_durations, stage_bottlenecks_weekly" in html
    assert "Time in stage and drop-off, last 90 days" in html
    assert '<td class="num">41.7 %</td>' in html  # drop_off_rate 5 / 12
    assert "Bottleneck of each week" in html and "<td>2026-03-23</td>" in html
    assert "Forecast against won" in html and '<td class="num">1.17</td>' in html
    assert "<td>that day (snapshots)</td>" in html  # forecast_lookback.basis, said plainly
    assert "Won share by qualification status" in html
    assert '<td>qualified</td><td class="num">40</td><td class="num">40.0 %</td>' in html
    assert "2.00 ×" in html
    # 4 trends, 2 forecast, 3 stall (outcomes, durations, weekly), qualification, touches
    assert html.count('<script type="application/json" id="spec-') == 11
