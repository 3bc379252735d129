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
--   count (0 included; the mean of the two middle counts when the number is even). NULL
--   averages when there are no opportunities of the outcome.
-- implementation: the median is read from the histogram of per-opportunity counts (how many
--   opportunities had k activities of the type, the zeros added as one bucket), so no row per
--   opportunity and type is built.

with

closed as (

    select
        opportunity_id,
        case when is_won then 'won' else 'lost' end as outcome

    from opportunities
    where is_won or is_lost

),

outcome_sizes as (

    select
        outcomes.outcome,
        count(closed.opportunity_id) as opportunities

    from (select unnest(['won', 'lost']) as outcome) as outcomes
    left join closed
        on outcomes.outcome = closed.outcome
    group by outcomes.outcome

),

touches as (

    -- activities per closed opportunity and type (only those with at least one)
    select
        closed.outcome,
        activities.opportunity_id,
        coalesce(activities.activity_type, '(none)') as activity_type,
        count(*) as activities

    from stg_activities as activities
    inner join closed
        on activities.opportunity_id = closed.opportunity_id
    group by all

),

per_opportunity as (

    select
        outcome,
        activity_type,
        activities

    from touches

    union all

    select
        outcome,
        '(all)',
        sum(activities)

    from touches
    group by outcome, opportunity_id

),

types as (

    select distinct activity_type from touches
    union
    select '(all)'

),

grid as (

    select
        outcome_sizes.outcome,
        outcome_sizes.opportunities,
        types.activity_type

    from outcome_sizes
    cross join types

),

histogram as (

    -- how many opportunities had k activities of the type (k >= 1) ...
    select
        outcome,
        activity_type,
        activities as k,
        count(*) as opportunities

    from per_opportunity
    group by all

    union all

    -- ... and how many had none
    select
        grid.outcome,
        grid.activity_type,
        0,
        grid.opportunities - count(per_opportunity.activities)

    from grid
    left join per_opportunity
        on
            grid.outcome = per_opportunity.outcome
            and grid.activity_type = per_opportunity.activity_type
    group by grid.outcome, grid.activity_type, grid.opportunities

),

cumulative as (

    select
        histogram.*,
        sum(opportunities) over (
            partition by outcome, activity_type
            order by k
            rows between unbounded preceding and current row
        ) as up_to_k

    from histogram
    where opportunities > 0

),

aggregated as (

    select
        grid.outcome,
        grid.activity_type,
        grid.opportunities,
        coalesce(sum(cumulative.opportunities) filter (where cumulative.k > 0), 0)
            as opportunities_with_activity,
        coalesce(sum(cumulative.k * cumulative.opportunities), 0) as activities,
        -- the counts at positions floor((n + 1) / 2) and floor(n / 2) + 1 of the sorted counts
        min(cumulative.k) filter (where cumulative.up_to_k >= (grid.opportunities + 1) // 2)
            as lower_middle,
        min(cumulative.k) filter (where cumulative.up_to_k >= grid.opportunities // 2 + 1)
            as upper_middle

    from grid
    left join cumulative
        on grid.outcome = cumulative.outcome and grid.activity_type = cumulative.activity_type
    group by grid.outcome, grid.activity_type, grid.opportunities

),

final as (

    select
        outcome,
        activity_type,
        opportunities,
        opportunities_with_activity,
        cast(activities as bigint) as activities,
        cast(activities as double) / nullif(opportunities, 0) as avg_activities,
        case
            when opportunities > 0 then (lower_middle + upper_middle) / 2.0
        end as median_activities

    from aggregated

)

select * from final
order by list_position(['won', 'lost'], outcome), activity_type = '(all)' desc, activity_type
