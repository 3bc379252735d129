-- audit: stage_conversion is unique on (cohort_month, stage) and its counts and rate are coherent.
select
    cohort_month,
    stage,
    count(*) as rows_in_grain,
    min(entered) as entered,
    min(advanced) as advanced,
    min(conversion_rate) as conversion_rate

from stage_conversion
group by cohort_month, stage
having
    count(*) > 1
    or min(entered) <= 0
    or max(advanced) > min(entered)
    or max(won + lost) > min(entered)
    or min(conversion_rate) < 0
    or max(conversion_rate) > 1
