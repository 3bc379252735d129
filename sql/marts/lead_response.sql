-- lead_response: how fast each lead got its first touch (speed to lead).
-- grain: lead_id
-- inputs: leads, opportunities, stg_activities, stg_hygiene_config
-- decisions:
--   first_touch_at: the earliest activity logged on the lead or on one of its opportunities
--   (an activity logged before created_at counts as a touch at once: minutes 0).
--   minutes_to_first_touch = (first_touch_at - created_at) in minutes, fractional, never below 0;
--   NULL without a touch or without created_at.
--   sla_band: '5m' (<= 5 minutes), '1h' (<= 60), '24h' (<= 1,440), 'later', 'none' (no touch);
--   each band includes its upper edge. within_sla: minutes_to_first_touch <= [hygiene]
--   lead_sla_minutes (false without a touch).
--   is_won: one of the lead's opportunities is won (leads.is_won).

with

settings as (

    select * from stg_hygiene_config

),

lead_rows as (

    select
        lead_id,
        owner,
        source,
        created_at,
        created_date,
        is_won

    from leads

),

touches as (

    select
        lead_id,
        occurred_at

    from stg_activities
    where lead_id is not null

    union all

    select
        opportunities.record_id as lead_id,
        activities.occurred_at

    from stg_activities as activities
    inner join opportunities
        on activities.opportunity_id = opportunities.opportunity_id
    where opportunities.has_loaded_lead

),

first_touches as (

    select
        lead_id,
        min(occurred_at) as first_touch_at,
        count(*) as touches

    from touches
    where occurred_at is not null
    group by lead_id

),

timed as (

    select
        lead_rows.*,
        first_touches.first_touch_at,
        coalesce(first_touches.touches, 0) as touches,
        case
            when first_touches.first_touch_at is not null
                then greatest(
                    date_diff('second', lead_rows.created_at, first_touches.first_touch_at)
                    / 60.0,
                    0.0
                )
        end as minutes_to_first_touch

    from lead_rows
    left join first_touches
        on lead_rows.lead_id = first_touches.lead_id

),

final as (

    select
        -- the lead
        timed.lead_id,
        timed.owner,
        timed.source,
        timed.created_at,
        timed.created_date,

        -- the first touch
        timed.first_touch_at,
        timed.minutes_to_first_touch,
        case
            when timed.first_touch_at is null then 'none'
            when timed.minutes_to_first_touch <= 5 then '5m'
            when timed.minutes_to_first_touch <= 60 then '1h'
            when timed.minutes_to_first_touch <= 1440 then '24h'
            else 'later'
        end as sla_band,
        coalesce(timed.minutes_to_first_touch <= settings.lead_sla_minutes, false) as within_sla,
        cast(timed.touches as bigint) as touches,

        -- outcome
        timed.is_won

    from timed
    cross join settings

)

select * from final
order by lead_id
