-- audit: source_metrics_daily is unique on (day, trailing_window, source) and its counts nest
-- (won, converted, qualified <= leads; rate in 0..1) (offending: the rows that break it).
select
    day,
    trailing_window,
    source,
    count(*) as rows_in_grain,
    min(leads) as leads,
    max(lead_to_win_rate) as lead_to_win_rate

from source_metrics_daily
group by day, trailing_window, source
having
    count(*) > 1
    or source is null
    or max(qualified) > min(leads)
    or max(converted) > min(leads)
    or max(won) > min(leads)
    or min(lead_to_win_rate) < 0
    or max(lead_to_win_rate) > 1
