-- lead_response: speed to lead, how long each lead waited for its first touch.
-- grain: lead_id
-- inputs: leads, int_activities__linked
-- decisions:
--   A touch is a loaded activity on the lead or on one of its opportunities
--   (int_activities__linked): a rep who converts a lead at once and logs the call on the deal
--   has still touched the lead. first_touch_at is the earliest touch (ties: the smaller id).
--   response_minutes = seconds from created_at to first_touch_at / 60, never below 0: a touch
--   logged before the lead's creation (a lead created from a call) is an answer at once.
--   response_band, by response_minutes m (each edge inclusive):
--     within_5m   m <= 5
--     within_1h   5 < m <= 60
--     within_24h  60 < m <= 1440
--     later       m > 1440
--     none        no touch yet
--   is_within_sla: m <= [response] sla_minutes (variable response_sla_minutes, default 60);
--   false for a lead with no touch.

with

lead_rows as (

    select
        lead_id,
        created_at,
        created_date,
        owner,
        source,
        is_won

    from leads

),

first_touches as (

    select
        lead_id,
        activity_id as first_touch_activity_id,
        activity_type as first_touch_type,
        owner as first_touch_owner,
        occurred_at as first_touch_at

    from int_activities__linked
    where lead_id is not null
    qualify row_number() over (partition by lead_id order by occurred_at, activity_id) = 1

),

settings as (

    select cast(coalesce(getvariable('response_sla_minutes'), 60) as double) as sla_minutes

),

timed as (

    select
        lead_rows.*,
        first_touches.first_touch_activity_id,
        first_touches.first_touch_type,
        first_touches.first_touch_owner,
        first_touches.first_touch_at,
        -- greatest() skips NULLs: a lead with no touch keeps a NULL response
        case
            when first_touches.first_touch_at is not null
                then greatest(
                    date_diff('second', lead_rows.created_at, first_touches.first_touch_at), 0
                ) / 60.0
        end as response_minutes,
        settings.sla_minutes

    from lead_rows
    cross join settings
    left join first_touches
        on lead_rows.lead_id = first_touches.lead_id

),

final as (

    select
        -- key
        lead_id,

        -- the lead
        created_at,
        created_date,
        owner,
        source,

        -- its first touch
        first_touch_at,
        first_touch_activity_id,
        first_touch_type,
        first_touch_owner,
        response_minutes,
        case
            when response_minutes is null then 'none'
            when response_minutes <= 5 then 'within_5m'
            when response_minutes <= 60 then 'within_1h'
            when response_minutes <= 1440 then 'within_24h'
            else 'later'
        end as response_band,
        sla_minutes,
        coalesce(response_minutes <= sla_minutes, false) as is_within_sla,

        -- outcome
        is_won

    from timed

)

select * from final
