-- int_activities__linked: each activity with the loaded lead and opportunity it touches.
-- grain: activity_id
-- inputs: stg_activities, stg_leads, int_opportunities__linked
-- decisions:
--   opportunity_id is the activity's opportunity when it is loaded, else NULL.
--   lead_id is the activity's own lead when it is loaded, else the loaded lead of its
--   opportunity (record_lead_id), else NULL: an activity logged on a converted lead's
--   opportunity is a touch of that lead too.
--   Activities after the as-of day are left out (a past day's run sees only what had happened).

with

activities as (

    select * from stg_activities

),

leads as (

    select lead_id from stg_leads

),

opportunities as (

    select
        opportunity_id,
        record_lead_id

    from int_opportunities__linked

),

linked as (

    select
        -- ids
        activities.activity_id,
        coalesce(leads.lead_id, opportunities.record_lead_id) as lead_id,
        opportunities.opportunity_id,

        -- descriptors
        activities.activity_type,
        activities.owner,

        -- dates
        activities.occurred_at

    from activities
    left join leads
        on activities.lead_id = leads.lead_id
    left join opportunities
        on activities.opportunity_id = opportunities.opportunity_id
    where activities.occurred_date <= cast(getvariable('as_of') as date)

)

select * from linked
