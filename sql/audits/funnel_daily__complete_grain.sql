-- audit: funnel_daily has exactly the 8 canonical stages on every day from its first day to the
-- as-of day, without gaps (offending: the days that break this, or a summary row).
with

days as (

    select
        day,
        count(*) as stages,
        count(distinct stage) as distinct_stages

    from funnel_daily
    group by day

),

bounds as (

    select
        min(day) as first_day,
        max(day) as last_day,
        count(*) as day_count

    from days

)

select
    'day' as problem,
    days.day,
    days.stages

from days
where days.stages <> 8 or days.distinct_stages <> 8

union all

select
    'spine' as problem,
    bounds.last_day,
    bounds.day_count

from bounds
where
    bounds.last_day is distinct from cast(getvariable('as_of') as date)
    or bounds.day_count <> date_diff('day', bounds.first_day, bounds.last_day) + 1
