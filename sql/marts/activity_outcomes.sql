-- activity_outcomes: how many touches won and lost opportunities had, by activity type.
-- grain: (outcome, activity_type); outcome is 'won' (won or post_sale) or 'lost'; activity_type
--   is each type seen on a closed opportunity ('(none)' for activities without a type) plus
--   '(all)' for every type together; every outcome has a row for every type
-- inputs: opportunities, stg_activities
-- decisions:
--   Counts the activities keyed to the opportunity (activities.opportunity_id); activities
--   logged only on its lead are not the opportunity's touches. Every closed opportunity counts,
--   including those with no activity at all (as 0 activities), so the mean and median are per
--   opportunity, not per active one.
--   opportunities: closed opportunities with that outcome; opportunities_with_activity: those
--   with at least one activity of the type; activities: the activities of the type on them;
--   avg_activities = activities / opportunities; median_activities: the median per-opportunity
--   count (0 included). NULL averages when there are no opportunities of the outcome.

with

closed as (

    select
        opportunity_id,
        case when is_won then 'won' else 'lost' end as outcome

    from opportunities
    where is_won or is_lost

),

touches as (

    select
        activities.opportunity_id,
        coalesce(activities.activity_type, '(none)') as activity_type,
        count(*) as activities

    from stg_activities as activities
    inner join closed
        on activities.opportunity_id = closed.opportunity_id
    group by all

),

types as (

    select distinct activity_type from touches
    union all
    select '(all)'

),

outcomes as (

    select unnest(['won', 'lost']) as outcome

),

per_type as (

    -- one row per closed opportunity and activity type, 0 when it had none of that type
    select
        closed.outcome,
        types.activity_type,
        coalesce(touches.activities, 0) as activities

    from closed
    cross join types
    left join touches
        on
            closed.opportunity_id = touches.opportunity_id
            and types.activity_type = touches.activity_type
    where types.activity_type <> '(all)'

    union all

    select
        closed.outcome,
        '(all)',
        coalesce(sum(touches.activities), 0)

    from closed
    left join touches
        on closed.opportunity_id = touches.opportunity_id
    group by closed.opportunity_id, closed.outcome

),

aggregated as (

    select
        outcome,
        activity_type,
        count(*) as opportunities,
        count(*) filter (where activities > 0) as opportunities_with_activity,
        sum(activities) as activities,
        avg(activities) as avg_activities,
        median(activities) as median_activities

    from per_type
    group by outcome, activity_type

),

final as (

    select
        outcomes.outcome,
        types.activity_type,
        coalesce(aggregated.opportunities, 0) as opportunities,
        coalesce(aggregated.opportunities_with_activity, 0) as opportunities_with_activity,
        cast(coalesce(aggregated.activities, 0) as bigint) as activities,
        cast(aggregated.avg_activities as double) as avg_activities,
        cast(aggregated.median_activities as double) as median_activities

    from outcomes
    cross join types
    left join aggregated
        on outcomes.outcome = aggregated.outcome and types.activity_type = aggregated.activity_type

)

select * from final
order by list_position(['won', 'lost'], outcome), activity_type = '(all)' desc, activity_type
