-- audit: activity_outcomes has one row per (outcome, activity_type), every type for both
-- outcomes, and per type no more activities than in '(all)' (offending groups).
select
    outcome,
    activity_type,
    count(*) as rows_in_grain

from activity_outcomes
group by outcome, activity_type
having
    count(*) > 1
    or outcome not in ('won', 'lost')
    or max(opportunities_with_activity) > min(opportunities)
    or max(activities) > (
        select max(all_types.activities) from activity_outcomes as all_types
        where all_types.outcome = activity_outcomes.outcome and all_types.activity_type = '(all)'
    )
    or (select count(distinct other.outcome) from activity_outcomes as other
        where other.activity_type = activity_outcomes.activity_type) <> 2
