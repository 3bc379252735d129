-- audit: funnel_daily counts are never negative, and on the as-of day every stage holds at least
-- the records whose current entry stage_transitions dates (offending: the rows that break it).
with

dated_current as (

    select
        stage,
        count(*) as records

    from stage_transitions
    where is_current
    group by stage

)

select
    funnel_daily.day,
    funnel_daily.stage,
    funnel_daily.entered,
    funnel_daily.in_stage,
    dated_current.records as dated_current_records

from funnel_daily
left join dated_current
    on
        funnel_daily.stage = dated_current.stage
        and funnel_daily.day = cast(getvariable('as_of') as date)
where
    funnel_daily.entered < 0
    or funnel_daily.in_stage < 0
    or funnel_daily.in_stage < coalesce(dated_current.records, 0)
