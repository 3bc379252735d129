-- int_day_spine: every calendar day the daily marts report on.
-- grain: day
-- inputs: stg_leads, stg_opportunities, stg_stage_history, stg_state_snapshots
-- decisions: from the earliest relevant date in the data (a lead or opportunity created, an
-- opportunity closed, a stage entered, the pipeline's first snapshot up to the as-of day, so an
-- export without dates keeps every night since its first run) to the as-of day inclusive, never
-- after it. With no dated rows at all the spine is the as-of day alone. (A history row of a
-- record that is not loaded may start the spine early; such days simply show zeros.) It never
-- starts before 1900-01-01, the first plausible date (funnel.quality.ranges quarantines earlier
-- ones): one stray date must not make the spine, and every daily mart, centuries long.
with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

first_dates as (

    select min(created_date) as first_day from stg_leads
    union all
    select min(created_date) from stg_opportunities
    union all
    select min(closed_date) from stg_opportunities
    union all
    select min(entered_date) from stg_stage_history
    where entered_date <= (select as_of_day from as_of)
    union all
    select min(snapshot_day) from stg_state_snapshots
    where snapshot_day <= (select as_of_day from as_of)

),

bounds as (

    select
        greatest(
            least(coalesce(min(first_dates.first_day), as_of.as_of_day), as_of.as_of_day),
            date '1900-01-01'
        ) as first_day,
        as_of.as_of_day as last_day

    from first_dates
    cross join as_of
    group by as_of.as_of_day

),

spine as (

    select
        cast(
            unnest(
                generate_series(
                    cast(first_day as timestamp), cast(last_day as timestamp), interval 1 day
                )
            ) as date
        ) as day

    from bounds

)

select * from spine
