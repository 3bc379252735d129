-- audit: funnel_metrics_daily has the four windows on every day once per currency, rates in
-- 0..1, no negative counts, and the open pipeline equal in every window of a day (offending: the
-- days and currencies that break it).
select
    day,
    currency,
    count(*) as windows,
    min(win_rate) as min_win_rate,
    max(win_rate) as max_win_rate

from funnel_metrics_daily
group by day, currency
having
    count(*) <> 4
    or count(distinct trailing_window) <> 4
    or bool_or(trailing_window not in ('30d', '90d', '365d', 'all'))
    or min(win_rate) < 0
    or max(win_rate) > 1
    or min(won) < 0
    or min(lost) < 0
    or min(open_count) < 0
    or count(distinct open_count) > 1
    or count(distinct open_amount) > 1
