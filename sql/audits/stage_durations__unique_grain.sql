-- audit: stage_durations has exactly one row per (window, stage), all on the as-of day, with
-- coherent counts and shares (offending: the groups that break it).
select
    trailing_window,
    stage,
    count(*) as rows_in_grain

from stage_durations
group by trailing_window, stage
having
    count(*) <> 1
    or min(day) <> cast(getvariable('as_of') as date)
    or max(exited_forward + exited_back + exited_to_won + exited_to_lost) > min(exited)
    or max(dropped) > min(entered)
    or max(dropped_lost + dropped_open) <> min(dropped)
    or max(still_in_stage) > min(dropped_open)
    or min(lost_share) < 0
    or max(lost_share) > 1
    or min(drop_off_rate) < 0
    or max(drop_off_rate) > 1
    or min(median_days_in_stage) < 0
